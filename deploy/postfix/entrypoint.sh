#!/bin/sh
# Writes Postfix's settings from the environment, then runs it in the
# foreground so the container lives as long as Postfix does.
set -eu
: "${EASD_MAIL_DOMAIN:?set EASD_MAIL_DOMAIN to the users' mail domain}"

postconf -e \
	"myhostname=${POSTFIX_HOSTNAME:-mail.$EASD_MAIL_DOMAIN}" \
	"mydomain=$EASD_MAIL_DOMAIN" \
	"mydestination=localhost" \
	"mynetworks=127.0.0.0/8" \
	"inet_interfaces=all" \
	"inet_protocols=ipv4" \
	"maillog_file=/dev/stdout" \
	"relayhost=${POSTFIX_RELAYHOST:-}" \
	"virtual_mailbox_domains=$EASD_MAIL_DOMAIN" \
	"virtual_transport=lmtp:inet:dovecot:24" \
	"smtpd_sasl_type=dovecot" \
	"smtpd_sasl_path=inet:dovecot:12345" \
	"smtpd_relay_restrictions=permit_mynetworks, reject_unauth_destination" \
	"smtpd_recipient_restrictions=reject_unverified_recipient" \
	"compatibility_level=3.6"

# Submission (587): only users who log in with their Dovecot password may
# send, to anyone.
postconf -M "submission/inet=submission inet n - n - - smtpd"
postconf -P \
	"submission/inet/syslog_name=postfix/submission" \
	"submission/inet/smtpd_sasl_auth_enable=yes" \
	"submission/inet/smtpd_tls_security_level=none" \
	"submission/inet/smtpd_client_restrictions=permit_sasl_authenticated,reject" \
	"submission/inet/smtpd_relay_restrictions=permit_sasl_authenticated,reject" \
	"submission/inet/smtpd_recipient_restrictions="

# Replies of Dovecot's Sieve (out-of-office) on 10025, which is not
# published: only mail with the null sender, as vacation replies are sent,
# to anyone.
postconf -M "10025/inet=10025 inet n - n - - smtpd"
postconf -P \
	"10025/inet/syslog_name=postfix/sieve-replies" \
	"10025/inet/smtpd_sender_restrictions=check_sender_access inline:{<>=OK}, reject" \
	"10025/inet/smtpd_relay_restrictions=permit" \
	"10025/inet/smtpd_recipient_restrictions="

# maillog_file needs the postlog service.
postconf -M "postlog/unix-dgram=postlog unix-dgram n - n - 1 postlogd"
newaliases
exec postfix start-fg
