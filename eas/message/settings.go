package message

// SettingsRequest gets or sets user and device settings (MS-ASCMD
// 2.2.1.18); each part is optional.
type SettingsRequest struct {
	WBXMLName                   Tag                    `wbxml:"Settings:Settings"`
	RightsManagementInformation *GetRequest            `wbxml:"RightsManagementInformation"`
	Oof                         *OofRequest            `wbxml:"Oof"`
	DevicePassword              *DevicePasswordRequest `wbxml:"DevicePassword"`
	DeviceInformation           *DeviceInformation     `wbxml:"DeviceInformation"`
	UserInformation             *GetRequest            `wbxml:"UserInformation"`
}

// GetRequest is a part that only asks: <Part><Get/></Part>.
type GetRequest struct {
	Get bool `wbxml:"Get,empty"`
}

// OofRequest reads (Get) or changes (Set) the out-of-office settings.
type OofRequest struct {
	Get *OofGetRequest `wbxml:"Get"`
	Set *Oof           `wbxml:"Set"`
}

// OofGetRequest names the body type the replies are wanted in.
type OofGetRequest struct {
	BodyType string `wbxml:"BodyType"` // Text or HTML
}

// Oof is the out-of-office state: Set in a request, Get in a response.
type Oof struct {
	// OofState is 0 off, 1 on, 2 on between StartTime and EndTime.
	OofState   *int         `wbxml:"OofState"`
	StartTime  string       `wbxml:"StartTime,omitempty"`
	EndTime    string       `wbxml:"EndTime,omitempty"`
	OofMessage []OofMessage `wbxml:"OofMessage"`
}

// OofMessage is the reply to one audience, named by which AppliesTo flag
// is set.
type OofMessage struct {
	AppliesToInternal        bool   `wbxml:"AppliesToInternal,empty"`
	AppliesToExternalKnown   bool   `wbxml:"AppliesToExternalKnown,empty"`
	AppliesToExternalUnknown bool   `wbxml:"AppliesToExternalUnknown,empty"`
	Enabled                  bool   `wbxml:"Enabled"`
	ReplyMessage             string `wbxml:"ReplyMessage,omitempty"`
	BodyType                 string `wbxml:"BodyType,omitempty"`
}

// DevicePasswordRequest sends the device's recovery password.
type DevicePasswordRequest struct {
	Set *DevicePasswordSet `wbxml:"Set"`
}

// DevicePasswordSet holds the recovery password.
type DevicePasswordSet struct {
	Password string `wbxml:"Password"`
}

// DeviceInformation describes the device, in Settings and (from 14.1) in
// the first Provision request.
type DeviceInformation struct {
	Set *DeviceInformationSet `wbxml:"Set"`
}

// DeviceInformationSet is what the device tells about itself (MS-ASCMD
// 2.2.3.45).
type DeviceInformationSet struct {
	Model             string `wbxml:"Model,omitempty"`
	IMEI              string `wbxml:"IMEI,omitempty"`
	FriendlyName      string `wbxml:"FriendlyName,omitempty"`
	OS                string `wbxml:"OS,omitempty"`
	OSLanguage        string `wbxml:"OSLanguage,omitempty"`
	PhoneNumber       string `wbxml:"PhoneNumber,omitempty"`
	UserAgent         string `wbxml:"UserAgent,omitempty"`
	EnableOutboundSMS bool   `wbxml:"EnableOutboundSMS,omitempty"`
	MobileOperator    string `wbxml:"MobileOperator,omitempty"`
}

// DeviceInformationStatus answers DeviceInformation.
type DeviceInformationStatus struct {
	Status int `wbxml:"Status"`
}

// SettingsResponse answers SettingsRequest: an overall Status and one
// answer, with its own Status, per part asked.
type SettingsResponse struct {
	WBXMLName                   Tag                          `wbxml:"Settings:Settings"`
	Status                      int                          `wbxml:"Status"`
	RightsManagementInformation *RightsManagementInformation `wbxml:"RightsManagementInformation"`
	Oof                         *OofResponse                 `wbxml:"Oof"`
	DevicePassword              *SettingsStatus              `wbxml:"DevicePassword"`
	DeviceInformation           *SettingsStatus              `wbxml:"DeviceInformation"`
	UserInformation             *UserInformationResponse     `wbxml:"UserInformation"`
}

// SettingsStatus is the answer to a Set.
type SettingsStatus struct {
	Status int `wbxml:"Status"`
}

// OofResponse answers OofRequest; Get is present for a Get.
type OofResponse struct {
	Status int  `wbxml:"Status"`
	Get    *Oof `wbxml:"Get"`
}

// UserInformationResponse answers UserInformation Get.
type UserInformationResponse struct {
	Status int              `wbxml:"Status"`
	Get    *UserInformation `wbxml:"Get"`
}

// UserInformation is the user's addresses: EmailAddresses before 14.1,
// Accounts from 14.1 on.
type UserInformation struct {
	EmailAddresses *EmailAddresses `wbxml:"EmailAddresses"`
	Accounts       *Accounts       `wbxml:"Accounts"`
}

// EmailAddresses lists a user's addresses.
type EmailAddresses struct {
	SmtpAddress        []string `wbxml:"SmtpAddress"`
	PrimarySmtpAddress string   `wbxml:"PrimarySmtpAddress,omitempty"`
}

// Accounts lists the accounts the user can use.
type Accounts struct {
	Account []Account `wbxml:"Account"`
}

// Account is one account of UserInformation (14.1+).
type Account struct {
	AccountID       string          `wbxml:"AccountId,omitempty"`
	AccountName     string          `wbxml:"AccountName,omitempty"`
	UserDisplayName string          `wbxml:"UserDisplayName,omitempty"`
	SendDisabled    bool            `wbxml:"SendDisabled,omitempty"`
	EmailAddresses  *EmailAddresses `wbxml:"EmailAddresses"`
}

// RightsManagementInformation answers RightsManagementInformation Get.
type RightsManagementInformation struct {
	Status int                  `wbxml:"Status"`
	Get    *RightsManagementGet `wbxml:"Get"`
}

// RightsManagementGet holds the templates the user may apply.
type RightsManagementGet struct {
	Templates *RightsManagementTemplates `wbxml:"RightsManagement:RightsManagementTemplates"`
}

// RightsManagementTemplates lists rights-management templates; easd has
// none, and sends the list empty.
type RightsManagementTemplates struct {
	Template []RightsManagementTemplate `wbxml:"RightsManagementTemplate"`
}

// RightsManagementTemplate is one template.
type RightsManagementTemplate struct {
	TemplateID          string `wbxml:"TemplateID"`
	TemplateName        string `wbxml:"TemplateName"`
	TemplateDescription string `wbxml:"TemplateDescription"`
}
