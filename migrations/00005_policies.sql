-- +goose Up
-- Device policies (MS-ASPROV EASProvisionDoc). Exactly one policy is the
-- default; a device may be assigned another one (devices.policy_id).
--
-- generation changes on every change of a policy and is unique across all
-- policies, so a device whose key was issued for another generation (its
-- policy was edited, or it was assigned a different one) is told to
-- provision again (Status 143 / HTTP 449).
CREATE SEQUENCE policy_generation_seq;

CREATE TABLE policies (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    is_default  boolean NOT NULL DEFAULT false,
    generation  bigint NOT NULL DEFAULT nextval('policy_generation_seq'),
    -- devices that cannot apply the policy fully (or at all) may still sync
    allow_non_provisionable boolean NOT NULL DEFAULT true,
    -- the EASProvisionDoc settings, as the JSON form of policy.Settings;
    -- fields missing here take the built-in defaults
    settings    jsonb NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX policies_one_default ON policies (is_default) WHERE is_default;

-- Permissive but sane: no device password required, attachments and all
-- device features allowed, no sync limits.
INSERT INTO policies (name, is_default, settings) VALUES ('default', true, '{
    "DevicePasswordEnabled": false,
    "AlphanumericDevicePasswordRequired": false,
    "PasswordRecoveryEnabled": false,
    "RequireStorageCardEncryption": false,
    "AttachmentsEnabled": true,
    "MinDevicePasswordLength": 4,
    "MaxInactivityTimeDeviceLock": 900,
    "MaxDevicePasswordFailedAttempts": 8,
    "MaxAttachmentSize": 0,
    "AllowSimpleDevicePassword": true,
    "DevicePasswordExpiration": 0,
    "DevicePasswordHistory": 0,
    "AllowStorageCard": true,
    "AllowCamera": true,
    "RequireDeviceEncryption": false,
    "AllowUnsignedApplications": true,
    "AllowUnsignedInstallationPackages": true,
    "MinDevicePasswordComplexCharacters": 1,
    "AllowWiFi": true,
    "AllowTextMessaging": true,
    "AllowPOPIMAPEmail": true,
    "AllowBluetooth": 2,
    "AllowIrDA": true,
    "RequireManualSyncWhenRoaming": false,
    "AllowDesktopSync": true,
    "MaxCalendarAgeFilter": 0,
    "AllowHTMLEmail": true,
    "MaxEmailAgeFilter": 0,
    "MaxEmailBodyTruncationSize": -1,
    "MaxEmailHTMLBodyTruncationSize": -1,
    "RequireSignedSMIMEMessages": false,
    "RequireEncryptedSMIMEMessages": false,
    "RequireSignedSMIMEAlgorithm": 0,
    "RequireEncryptionSMIMEAlgorithm": 0,
    "AllowSMIMEEncryptionAlgorithmNegotiation": 2,
    "AllowSMIMESoftCerts": true,
    "AllowBrowser": true,
    "AllowConsumerEmail": true,
    "AllowRemoteDesktop": true,
    "AllowInternetSharing": true,
    "UnapprovedInROMApplicationList": [],
    "ApprovedApplicationList": []
}');

-- NULL: the default policy. Deleting a policy moves its devices back to the
-- default (and, the generation differing, to re-provisioning).
ALTER TABLE devices ADD COLUMN policy_id bigint REFERENCES policies(id) ON DELETE SET NULL;
