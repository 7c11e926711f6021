#!/bin/sh
# Adds a mail user to the compose stack: asks for the password, hashes it
# with doveadm in the Dovecot image (nothing is stored in clear text) and
# appends "name:{SHA512-CRYPT}hash" to deploy/dovecot/passwd. Dovecot reads
# the file on each login, so no restart is needed.
#
#   deploy/add-user.sh alice
set -eu
cd "$(dirname "$0")/.."
user=${1:?usage: deploy/add-user.sh NAME}
case $user in
*[!a-z0-9._-]*) echo "add-user: use a plain lower-case name such as alice (the address is alice@EASD_MAIL_DOMAIN)" >&2; exit 2 ;;
esac
passwd=deploy/dovecot/passwd
touch "$passwd"
if grep -q "^$user:" "$passwd"; then
	echo "add-user: $user exists already in $passwd" >&2
	exit 1
fi
stty -echo 2>/dev/null || true
printf 'password for %s: ' "$user" >&2
read -r pw
printf '\nagain: ' >&2
read -r pw2
stty echo 2>/dev/null || true
echo >&2
[ "$pw" = "$pw2" ] || { echo "add-user: the passwords differ" >&2; exit 1; }
[ -n "$pw" ] || { echo "add-user: empty password" >&2; exit 1; }
# The password reaches doveadm through the environment of a throwaway
# container, never a file; doveadm prints {SHA512-CRYPT}$6$...
hash=$(PW=$pw docker compose run --rm -T --no-deps -e PW dovecot sh -c 'doveadm pw -s SHA512-CRYPT -p "$PW"')
case $hash in
"{SHA512-CRYPT}"*) ;;
*) echo "add-user: doveadm pw failed: $hash" >&2; exit 1 ;;
esac
printf '%s:%s::::::\n' "$user" "$hash" >>"$passwd"
echo "added $user to $passwd"
