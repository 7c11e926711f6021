#!/usr/bin/env bash
# Makes sure the programs easd's dev mode and tests start are installed:
# PostgreSQL, Dovecot (IMAP, LMTP, Sieve and ManageSieve) and, for the tests, libwbxml's command-line tools
# (the independent WBXML implementation the codec is checked against),
# python3-vobject (an independent vCard parser) and python3-icalendar with
# python3-recurring-ical-events (an independent recurrence expander).
# As root with apt it installs what is missing; otherwise it prints the
# command to run and fails.
#
#   scripts/deps.sh dev    what `easd dev` needs
#   scripts/deps.sh test   what the tests need (adds libwbxml2-utils, python3-vobject,
#                          python3-icalendar, python3-recurring-ical-events, vdirsyncer,
#                          python3-caldav, litmus, slapd, ldap-utils, chromium, staticcheck)
set -euo pipefail
mode=${1:-dev}

have_pg() {
	command -v initdb >/dev/null 2>&1 && command -v postgres >/dev/null 2>&1 && return 0
	compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null
}
have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ]; }

missing=()
have_pg || missing+=(postgresql)
have dovecot || missing+=(dovecot-imapd)
# Out-of-office: Dovecot delivers through LMTP with Sieve (Pigeonhole) and
# serves ManageSieve, where easd writes the vacation scripts.
have_dovecot() { [ -x "/usr/lib/dovecot/$1" ] || [ -x "/usr/libexec/dovecot/$1" ]; }
have_dovecot lmtp || missing+=(dovecot-lmtpd)
have_dovecot managesieve-login || missing+=(dovecot-managesieved)
have sievec || missing+=(dovecot-sieve)
if [ "$mode" = test ]; then
	have xml2wbxml || missing+=(libwbxml2-utils)
	# Debian installs Python modules for /usr/bin/python3, which need not
	# be the first python3 on PATH.
	have_py() { python3 -c "import $1" >/dev/null 2>&1 || /usr/bin/python3 -c "import $1" >/dev/null 2>&1; }
	# An independent vCard parser the contacts tests check their output with.
	have_py vobject || missing+=(python3-vobject)
	# An independent recurrence expander the calendar tests compare
	# occurrence lists with.
	have_py icalendar || missing+=(python3-icalendar)
	have_py recurring_ical_events || missing+=(python3-recurring-ical-events)
	# Independent DAV clients the dav tests sync with and check conformance by.
	have vdirsyncer || missing+=(vdirsyncer)
	have_py caldav || missing+=(python3-caldav)
	have litmus || missing+=(litmus)
	# A private OpenLDAP server and its loader, for the directory's LDAP mode.
	have slapd || missing+=(slapd)
	have ldapadd || missing+=(ldap-utils)
	# Headless Chromium, the browser the admin web page's tests drive.
	have chromium || missing+=(chromium)
fi

if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		echo "installing ${missing[*]}" >&2
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		# The packages' own services are not wanted: easd starts private
		# instances. policy-rc.d keeps apt from starting them where it could.
		printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d.easd
		chmod +x /usr/sbin/policy-rc.d.easd
		[ -e /usr/sbin/policy-rc.d ] || ln -s /usr/sbin/policy-rc.d.easd /usr/sbin/policy-rc.d
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
		[ "$(readlink /usr/sbin/policy-rc.d 2>/dev/null)" = /usr/sbin/policy-rc.d.easd ] && rm -f /usr/sbin/policy-rc.d
		rm -f /usr/sbin/policy-rc.d.easd
	else
		echo "easd needs: ${missing[*]}" >&2
		echo "install them with:  sudo apt-get install ${missing[*]}" >&2
		exit 1
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	echo "easd needs Go 1.26 or newer: https://go.dev/doc/install" >&2
	exit 1
fi

if [ "$mode" = test ]; then
	gobin=$(go env GOPATH)/bin
	if ! command -v staticcheck >/dev/null 2>&1 && [ ! -x "$gobin/staticcheck" ]; then
		echo "installing staticcheck" >&2
		go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
	fi
fi
