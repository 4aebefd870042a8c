#!/usr/bin/env bash
# mailservers.sh - throw-away Dovecot (IMAP/POP3/LMTP/submission) + Postfix (SMTP)
# on loopback, for mailcfg's probe integration tests.  Debian 12, run as root, no systemd.
# Started from the verified recipe in the project's shared reference (mailsrv.sh), plus
# small misbehaving servers (scripts/mailservers-helper.py): silent, IMAP/POP3 without TLS.
#
#   mailservers.sh start    install packages if missing, write configs + certs
#                       into $MAILSRV_DIR, start both servers, wait until ready,
#                       write $MAILSRV_DIR/env (shell-sourceable) and print it
#   mailservers.sh stop     stop both servers by their PIDs (postfix first)
#   mailservers.sh status   show the PIDs and listening sockets
#
# Everything lives under MAILSRV_DIR (default /tmp/mailcfg-mailsrv; it is created).
# Keep that path short (unix socket paths are limited to 107 bytes) and
# traversable by the dovecot, dovenull, postfix users and uid $MAIL_UID.
#
# Loopback addresses (all on lo, nothing to configure on Linux):
#   127.0.0.1  good cert, plaintext login allowed (dovecot treats
#              127.0.0.1->127.0.0.1 as "secured" anyway)
#   127.0.0.2  good cert, dovecot refuses plaintext auth without TLS
#              (client source 127.0.0.1 != local 127.0.0.2)
#   127.0.0.3  expired cert (CN/SAN localhost, 127.0.0.3)
#   127.0.0.4  cert for wrong.example
#   127.0.0.5  self-signed cert (CN/SAN localhost, 127.0.0.1, 127.0.0.5), not from the test CA
set -euo pipefail

MAILSRV_DIR=${MAILSRV_DIR:-/tmp/mailcfg-mailsrv}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
D=$MAILSRV_DIR
IMAP_PORT=${IMAP_PORT:-10143}         # IMAP, STARTTLS available
IMAPS_PORT=${IMAPS_PORT:-10993}       # IMAP implicit TLS
POP3_PORT=${POP3_PORT:-10110}         # POP3, STLS available
POP3S_PORT=${POP3S_PORT:-10995}       # POP3 implicit TLS
LMTP_PORT=${LMTP_PORT:-10024}         # dovecot LMTP (postfix delivers here)
SMTP_PORT=${SMTP_PORT:-10025}         # postfix: no TLS, AUTH in cleartext
SUBMISSION_PORT=${SUBMISSION_PORT:-10587}   # postfix: STARTTLS required, AUTH after TLS
SUBMISSIONS_PORT=${SUBMISSIONS_PORT:-10465} # postfix: implicit TLS + AUTH
DC_SUBMISSION_PORT=${DC_SUBMISSION_PORT:-11587}   # dovecot submission (STARTTLS) -> postfix
DC_SUBMISSIONS_PORT=${DC_SUBMISSIONS_PORT:-11465} # dovecot submission (implicit TLS)
SILENT_PORT=${SILENT_PORT:-10026}           # helper: accepts TCP, never speaks (127.0.0.1)
IMAP_PLAIN_PORT=${IMAP_PLAIN_PORT:-10144}   # helper: IMAP without STARTTLS (127.0.0.1)
POP3_PLAIN_PORT=${POP3_PLAIN_PORT:-10111}   # helper: POP3 without STLS (127.0.0.1)
HTTP_PORT=${HTTP_PORT:-10080}               # helper: answers like an HTTP server (127.0.0.1)
BLACKHOLE_PORT=${BLACKHOLE_PORT:-10082}     # helper: SYNs unanswered, connect times out (127.0.0.1)
TRICKLE_PORT=${TRICKLE_PORT:-10083}         # helper: one byte every 0.2 s, never a line (127.0.0.1)
CLOSED_PORT=${CLOSED_PORT:-10009}           # nothing listens here (checked at start)
REJECTED_SENDER=${REJECTED_SENDER:-blocked@example.test}  # postfix refuses this MAIL FROM
MAIL_USER=${MAIL_USER:-testuser}
MAIL_PASS=${MAIL_PASS:-testpass}
MAIL_TOKEN=${MAIL_TOKEN:-testtoken-0123456789}   # XOAUTH2/OAUTHBEARER bearer token
MAIL_UID=${MAIL_UID:-5000}            # numeric, needs no /etc/passwd entry
IPS="127.0.0.1 127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5"

log() { printf '[mailsrv] %s\n' "$*" >&2; }
now() { date +%s.%N; }
alive() { # pid -> true if running and not a zombie
  [ -n "${1:-}" ] && [ -r "/proc/$1/stat" ] && ! awk '{exit !($3=="Z")}' "/proc/$1/stat" 2>/dev/null
}

install_pkgs() {
  local need=()
  command -v dovecot >/dev/null || need+=(dovecot-core)
  [ -x /usr/lib/dovecot/imap ] || need+=(dovecot-imapd)
  [ -x /usr/lib/dovecot/pop3 ] || need+=(dovecot-pop3d)
  [ -x /usr/lib/dovecot/lmtp ] || need+=(dovecot-lmtpd)
  [ -x /usr/lib/dovecot/submission ] || need+=(dovecot-submissiond)
  [ -x /usr/sbin/postfix ] || need+=(postfix)
  command -v openssl >/dev/null || need+=(openssl)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing: ${need[*]}"
  # Keep the packages' own init scripts from starting system-wide daemons
  # (the Debian image usually has a policy-rc.d that exits 101 already).
  local own_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod 755 /usr/sbin/policy-rc.d; own_policy=1
  fi
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >"$D/log/apt.log" 2>&1 || { cat "$D/log/apt.log" >&2; return 1; }
  apt-get install -y -qq --no-install-recommends "${need[@]}" >>"$D/log/apt.log" 2>&1 \
    || { cat "$D/log/apt.log" >&2; [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d; return 1; }
  [ -n "$own_policy" ] && rm -f /usr/sbin/policy-rc.d
  return 0
}

gen_certs() {
  local c=$D/certs
  if [ -s "$c/localhost.crt" ] && [ -s "$c/expired.crt" ] && [ -s "$c/wronghost.crt" ] \
     && openssl x509 -checkend 86400 -noout -in "$c/localhost.crt" >/dev/null; then
    return 0
  fi
  rm -rf "$c"; mkdir -p "$c/ca.db"; : > "$c/ca.db/index.txt"; echo 1000 > "$c/ca.db/serial"
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=mailsrv test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -keyout "$c/ca.key" -out "$c/ca.crt" 2>/dev/null
  cat > "$c/ca.cnf" <<EOF
[ca]
default_ca = testca
[testca]
dir = $c
database = \$dir/ca.db/index.txt
serial = \$dir/ca.db/serial
new_certs_dir = \$dir/ca.db
certificate = \$dir/ca.crt
private_key = \$dir/ca.key
default_md = sha256
policy = pol
unique_subject = no
copy_extensions = none
[pol]
commonName = supplied
[leaf]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = \${ENV::SAN}
EOF
  leaf() { # name CN SAN notBefore notAfter  (openssl x509 -days cannot go negative,
           # so `openssl ca -startdate/-enddate` is used for the expired one)
    openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$c/$1.key" -out "$c/$1.csr" 2>/dev/null
    SAN=$3 openssl ca -batch -config "$c/ca.cnf" -extensions leaf -notext \
      -startdate "$4" -enddate "$5" -in "$c/$1.csr" -out "$c/$1.crt" 2>/dev/null
    rm -f "$c/$1.csr"
  }
  leaf localhost localhost "DNS:localhost,IP:127.0.0.1,IP:127.0.0.2,IP:::1" 20240101000000Z 20991231235959Z
  leaf expired   localhost "DNS:localhost,IP:127.0.0.1,IP:127.0.0.3" 20200101000000Z 20200201000000Z
  leaf wronghost wrong.example "DNS:wrong.example" 20240101000000Z 20991231235959Z
  # a self-signed leaf without CA (CA:FALSE), for "self-signed" verification tests
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=localhost" \
    -addext "basicConstraints=critical,CA:FALSE" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:127.0.0.5" \
    -addext "extendedKeyUsage=serverAuth" -keyout "$c/selfsigned.key" -out "$c/selfsigned.crt" 2>/dev/null
  chmod 644 "$c"/*.crt; chmod 600 "$c"/*.key
}

write_configs() {
  mkdir -p "$D/dovecot" "$D/postfix" "$D/mail/$MAIL_USER" "$D/log" "$D/state/dovecot" \
           "$D/postfix-spool" "$D/postfix-data"
  chown "$MAIL_UID:$MAIL_UID" "$D/mail/$MAIL_USER"
  chown postfix "$D/postfix-data"
  # passwd-file: user:password:uid:gid:(gecos):home
  echo "$MAIL_USER:{PLAIN}$MAIL_PASS:$MAIL_UID:$MAIL_UID::$D/mail/$MAIL_USER" > "$D/dovecot/users"
  # second passdb, used only by XOAUTH2/OAUTHBEARER: the bearer token is checked like a password
  echo "$MAIL_USER:{PLAIN}$MAIL_TOKEN" > "$D/dovecot/oauth-tokens"
  chmod 644 "$D/dovecot/users" "$D/dovecot/oauth-tokens"

  cat > "$D/dovecot/dovecot.conf" <<EOF
# Stand-alone test instance: nothing under /etc/dovecot is read (dovecot -c THIS_FILE).
instance_name = mailsrv-test
base_dir = $D/run/dovecot
state_dir = $D/state/dovecot
listen = ${IPS// /, }
protocols = imap pop3 lmtp submission
hostname = localhost
log_path = $D/log/dovecot.log
auth_verbose = yes
#auth_debug = yes
#verbose_ssl = yes

ssl = yes
ssl_cert = <$D/certs/localhost.crt
ssl_key = <$D/certs/localhost.key
# Debian ships a DH group file; without ssl_dh dovecot 2.3 cannot offer DHE ciphers
ssl_dh = </usr/share/dovecot/dh.pem
ssl_min_protocol = TLSv1.2

auth_mechanisms = plain login xoauth2 oauthbearer
# Connections 127.0.0.1 -> 127.0.0.1 (rip == lip) are always "secured" for dovecot,
# so plaintext refusal can only be shown on another local address:
disable_plaintext_auth = no
local 127.0.0.2 {
  disable_plaintext_auth = yes
}
local 127.0.0.3 {
  ssl_cert = <$D/certs/expired.crt
  ssl_key = <$D/certs/expired.key
}
local 127.0.0.4 {
  ssl_cert = <$D/certs/wronghost.crt
  ssl_key = <$D/certs/wronghost.key
}
local 127.0.0.5 {
  ssl_cert = <$D/certs/selfsigned.crt
  ssl_key = <$D/certs/selfsigned.key
}
# faster failing-auth tests: no 2 s failure delay, no per-IP penalty (2,4,8,15 s)
auth_failure_delay = 0
service anvil {
  unix_listener anvil-auth-penalty {
    mode = 0
  }
}
mail_max_userip_connections = 100

mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%n $D/dovecot/users
}
passdb {
  driver = passwd-file
  mechanisms = xoauth2 oauthbearer
  args = scheme=PLAIN username_format=%n $D/dovecot/oauth-tokens
}
userdb {
  driver = passwd-file
  args = username_format=%n $D/dovecot/users
}

service imap-login {
  inet_listener imap {
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = $IMAPS_PORT
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    port = $POP3_PORT
  }
  inet_listener pop3s {
    port = $POP3S_PORT
    ssl = yes
  }
}
service lmtp {
  inet_listener lmtp {
    address = 127.0.0.1
    port = $LMTP_PORT
  }
}
# SASL for postfix (smtpd_sasl_type = dovecot)
service auth {
  unix_listener auth-postfix {
    mode = 0666
  }
}
# dovecot's own submission server: authenticates, then relays to postfix
submission_relay_host = 127.0.0.1
submission_relay_port = $SMTP_PORT
service submission-login {
  inet_listener submission {
    port = $DC_SUBMISSION_PORT
  }
  inet_listener submissions {
    port = $DC_SUBMISSIONS_PORT
    ssl = yes
  }
}
EOF

  cat > "$D/postfix/main.cf" <<EOF
# Stand-alone test instance: postfix -c $D/postfix start-fg
compatibility_level = 3.6
queue_directory = $D/postfix-spool
data_directory = $D/postfix-data
mail_owner = postfix
setgid_group = postdrop
myhostname = localhost.localdomain
mydomain = localdomain
myorigin = \$myhostname
mydestination =
# only addresses that are configured on an interface are allowed here (127.0.0.2-5
# are not, though Linux routes all of 127/8 to lo); master.cf binds them explicitly
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
# no syslog here: log to a file (must match maillog_file_prefixes; postlogd in master.cf)
maillog_file_prefixes = $D/log
maillog_file = $D/log/postfix.log
smtpd_banner = \$myhostname ESMTP mailsrv-test
smtpd_peername_lookup = no
smtpd_error_sleep_time = 0
# every accepted mail for these domains goes to dovecot's LMTP -> Maildir
virtual_mailbox_domains = localhost, localhost.localdomain, example.test
virtual_transport = lmtp:inet:127.0.0.1:$LMTP_PORT
smtpd_tls_cert_file = $D/certs/localhost.crt
smtpd_tls_key_file = $D/certs/localhost.key
smtpd_tls_security_level = may
smtpd_tls_auth_only = no
smtpd_sasl_type = dovecot
smtpd_sasl_path = $D/run/dovecot/auth-postfix
smtpd_sasl_auth_enable = yes
smtpd_relay_restrictions = permit_sasl_authenticated, reject_unauth_destination
# one sender nobody may use, for "From address rejected" tests (reported at RCPT time,
# as Postfix delays rejections by default)
smtpd_sender_restrictions = check_sender_access inline:{ { $REJECTED_SENDER = REJECT this sender is not allowed here } }
EOF

  local exp="-o smtpd_tls_cert_file=$D/certs/expired.crt -o smtpd_tls_key_file=$D/certs/expired.key"
  local wro="-o smtpd_tls_cert_file=$D/certs/wronghost.crt -o smtpd_tls_key_file=$D/certs/wronghost.key"
  local sel="-o smtpd_tls_cert_file=$D/certs/selfsigned.crt -o smtpd_tls_key_file=$D/certs/selfsigned.key"
  cat > "$D/postfix/master.cf" <<EOF
# service             type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$SMTP_PORT  inet  n       -       n       -       -       smtpd
  -o syslog_name=postfix/plain -o smtpd_tls_security_level=none
127.0.0.1:$SUBMISSION_PORT inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/submission -o smtpd_tls_security_level=encrypt -o smtpd_tls_auth_only=yes
127.0.0.1:$SUBMISSIONS_PORT inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/submissions -o smtpd_tls_wrappermode=yes
127.0.0.3:$SUBMISSION_PORT inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/submission-expired -o smtpd_tls_security_level=encrypt $exp
127.0.0.3:$SUBMISSIONS_PORT inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/submissions-expired -o smtpd_tls_wrappermode=yes $exp
127.0.0.4:$SUBMISSION_PORT inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/submission-wronghost -o smtpd_tls_security_level=encrypt $wro
127.0.0.4:$SUBMISSIONS_PORT inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/submissions-wronghost -o smtpd_tls_wrappermode=yes $wro
127.0.0.5:$SUBMISSION_PORT inet n   -       n       -       -       smtpd
  -o syslog_name=postfix/submission-selfsigned -o smtpd_tls_security_level=encrypt $sel
127.0.0.5:$SUBMISSIONS_PORT inet n  -       n       -       -       smtpd
  -o syslog_name=postfix/submissions-selfsigned -o smtpd_tls_wrappermode=yes $sel
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
  # postfix re-reads a main.cf whose mtime is "now" in 300 ms steps (~1.5 s) waiting for
  # the editor to finish; backdate the files so `postfix check`/start do not stall
  touch -d '1 minute ago' "$D/postfix/main.cf" "$D/postfix/master.cf"
}

# read a greeting line from ip:port; succeed if it starts with $3
greets() {
  ( exec 3<>"/dev/tcp/$1/$2" || exit 1
    IFS= read -r -t 2 line <&3 || exit 1
    [[ $line == "$3"* ]] ) 2>/dev/null
}

WATCH_PID=
wait_until() { # timeout_s description command...   (fails early if $WATCH_PID died)
  local t=$1 what=$2; shift 2
  local end=$(( $(date +%s) + t ))
  until "$@"; do
    if [ -n "$WATCH_PID" ] && ! alive "$WATCH_PID"; then log "process $WATCH_PID exited while waiting for $what"; return 1; fi
    if [ "$(date +%s)" -ge "$end" ]; then log "timeout waiting for $what"; return 1; fi
    sleep 0.05
  done
}

ports_free() {
  local ip p rc busy=
  for ip in $IPS; do
    for p in $IMAP_PORT $IMAPS_PORT $POP3_PORT $POP3S_PORT $LMTP_PORT $SMTP_PORT $SUBMISSION_PORT \
             $SUBMISSIONS_PORT $DC_SUBMISSION_PORT $DC_SUBMISSIONS_PORT $SILENT_PORT $IMAP_PLAIN_PORT \
             $POP3_PLAIN_PORT $HTTP_PORT $BLACKHOLE_PORT $TRICKLE_PORT $CLOSED_PORT; do
      rc=0
      if [ "$p" = "$BLACKHOLE_PORT" ]; then
        # a left-over black hole would make a plain connect hang: give up after 1 s (busy)
        timeout 1 bash -c "exec 3<>/dev/tcp/$ip/$p" 2>/dev/null || rc=$?
      else
        (exec 3<>"/dev/tcp/$ip/$p") 2>/dev/null || rc=$?
      fi
      if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ]; then busy+=" $ip:$p"; fi
    done
  done
  [ -z "$busy" ] || { log "already in use:$busy"; return 1; }
}

start_dovecot() {
  rm -rf "$D/run/dovecot"; mkdir -p "$D/run"
  # -F: foreground, so $! is the master's PID; setsid: own process group for clean-up
  setsid dovecot -F -c "$D/dovecot/dovecot.conf" >>"$D/log/dovecot.stdout" 2>&1 </dev/null &
  echo $! > "$D/run/dovecot.pid"; WATCH_PID=$!
  # the IMAP greeting is only sent once the auth process is up
  wait_until 20 "dovecot IMAP greeting" greets 127.0.0.1 "$IMAP_PORT" "* OK" || return 1
  wait_until 10 "dovecot auth socket" test -S "$D/run/dovecot/auth-postfix" || return 1
  wait_until 10 "dovecot POP3 greeting" greets 127.0.0.1 "$POP3_PORT" "+OK" || return 1
  wait_until 10 "dovecot LMTP greeting" greets 127.0.0.1 "$LMTP_PORT" "220" || return 1
}

start_postfix() {
  # creates the queue directories (needs mail_owner/setgid_group users from the package).
  # postfix(1) prints errors only to a tty (else to syslog, absent here): `script` gives it one
  rm -f "$D/postfix-spool/pid/master.pid"
  script -qefc "postfix -c $D/postfix check" /dev/null </dev/null >>"$D/log/postfix.stdout" 2>&1 || return 1
  setsid postfix -c "$D/postfix" start-fg >>"$D/log/postfix.stdout" 2>&1 </dev/null &
  echo $! > "$D/run/postfix-wrapper.pid"; WATCH_PID=$!  # /bin/sh postfix-script; the real master forks below it
  wait_until 20 "postfix master.pid" test -s "$D/postfix-spool/pid/master.pid" || return 1
  wait_until 20 "postfix SMTP greeting" greets 127.0.0.1 "$SMTP_PORT" "220" || return 1
  # master binds every inet service before the first smtpd answers, so the others are up too
  tr -d ' ' < "$D/postfix-spool/pid/master.pid" > "$D/run/postfix.pid"
}

start_helper() {
  # the interpreter itself, not a pyenv shim: $! must be the server's PID
  local py=/usr/bin/python3
  [ -x "$py" ] || py=$(python3 -c 'import sys; print(sys.executable)') || return 1
  setsid "$py" "$HERE/mailservers-helper.py" 127.0.0.1 "$SILENT_PORT" "$IMAP_PLAIN_PORT" \
    "$POP3_PLAIN_PORT" "$HTTP_PORT" "$BLACKHOLE_PORT" "$TRICKLE_PORT" >>"$D/log/helper.log" 2>&1 </dev/null &
  echo $! > "$D/run/helper.pid"; WATCH_PID=$!
  wait_until 10 "helper IMAP greeting" greets 127.0.0.1 "$IMAP_PLAIN_PORT" "* OK" || return 1
  wait_until 10 "helper POP3 greeting" greets 127.0.0.1 "$POP3_PLAIN_PORT" "+OK" || return 1
  wait_until 10 "helper HTTP answer" greets 127.0.0.1 "$HTTP_PORT" "HTTP/" || return 1
  wait_until 10 "helper silent port" bash -c "exec 3<>/dev/tcp/127.0.0.1/$SILENT_PORT 2>/dev/null" || return 1
}

write_env() {
  cat > "$D/env" <<EOF
MAILSRV_DIR=$D
MAILSRV_CA=$D/certs/ca.crt
MAILSRV_SELFSIGNED_CERT=$D/certs/selfsigned.crt
MAILSRV_USER=$MAIL_USER
MAILSRV_PASS=$MAIL_PASS
MAILSRV_TOKEN=$MAIL_TOKEN
MAILSRV_MAILDIR=$D/mail/$MAIL_USER/Maildir
MAILSRV_HOST=localhost
MAILSRV_HOST_NOPLAINTEXT=127.0.0.2
MAILSRV_HOST_EXPIRED=127.0.0.3
MAILSRV_HOST_WRONGHOST=127.0.0.4
MAILSRV_HOST_SELFSIGNED=127.0.0.5
MAILSRV_IMAP_PORT=$IMAP_PORT
MAILSRV_IMAPS_PORT=$IMAPS_PORT
MAILSRV_POP3_PORT=$POP3_PORT
MAILSRV_POP3S_PORT=$POP3S_PORT
MAILSRV_LMTP_PORT=$LMTP_PORT
MAILSRV_SMTP_PORT=$SMTP_PORT
MAILSRV_SUBMISSION_PORT=$SUBMISSION_PORT
MAILSRV_SUBMISSIONS_PORT=$SUBMISSIONS_PORT
MAILSRV_DC_SUBMISSION_PORT=$DC_SUBMISSION_PORT
MAILSRV_DC_SUBMISSIONS_PORT=$DC_SUBMISSIONS_PORT
MAILSRV_SILENT_PORT=$SILENT_PORT
MAILSRV_IMAP_PLAIN_PORT=$IMAP_PLAIN_PORT
MAILSRV_POP3_PLAIN_PORT=$POP3_PLAIN_PORT
MAILSRV_HTTP_PORT=$HTTP_PORT
MAILSRV_BLACKHOLE_PORT=$BLACKHOLE_PORT
MAILSRV_TRICKLE_PORT=$TRICKLE_PORT
MAILSRV_CLOSED_PORT=$CLOSED_PORT
MAILSRV_REJECTED_SENDER=$REJECTED_SENDER
EOF
}

stop_pid() { # name pidfile [timeout_s]
  local name=$1 f=$2 t=${3:-15} pid
  [ -s "$f" ] || return 0
  pid=$(cat "$f")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    local end=$(( $(date +%s) + t ))
    while alive "$pid" && [ "$(date +%s)" -lt "$end" ]; do sleep 0.1; done
    if alive "$pid"; then log "$name ($pid) did not stop, SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  fi
  rm -f "$f"
}

do_stop() {
  stop_pid helper "$D/run/helper.pid" 5
  # postfix first: its smtpd processes hold connections to dovecot's auth socket
  stop_pid postfix "$D/run/postfix.pid"
  stop_pid postfix-wrapper "$D/run/postfix-wrapper.pid" 5
  local pgid=
  [ -s "$D/run/dovecot.pid" ] && pgid=$(cat "$D/run/dovecot.pid")
  stop_pid dovecot "$D/run/dovecot.pid"
  # leftovers of dovecot's process group (setsid made the master the group leader)
  # (PID 1 of this machine reaps orphans lazily, so ignore zombies)
  if [ -n "$pgid" ] && ps -o stat= -g "$pgid" 2>/dev/null | grep -qv '^Z'; then
    kill -TERM -- "-$pgid" 2>/dev/null || true; sleep 0.5
    kill -KILL -- "-$pgid" 2>/dev/null || true
  fi
}

do_start() {
  mkdir -p "$D/log"; chmod 755 "$D"   # mktemp -d makes 0700 dirs
  do_stop   # a previous instance from this directory
  local t0; t0=$(now)
  ports_free
  install_pkgs;  local t1; t1=$(now)
  gen_certs;     local t2; t2=$(now)
  write_configs
  # every parent of MAILSRV_DIR must be traversable by dovecot, postfix and $MAIL_UID
  if ! runuser -u dovecot -- test -r "$D/dovecot/users" \
     || ! runuser -u postfix -- test -x "$D/postfix-data" \
     || ! setpriv --reuid="$MAIL_UID" --regid="$MAIL_UID" --clear-groups test -w "$D/mail/$MAIL_USER"; then
    log "$D is not reachable for the dovecot/postfix/uid $MAIL_UID users (a 0700 parent such as /root?); use a dir under /tmp"
    return 1
  fi
  if ! start_dovecot; then tail -n 15 "$D/log/dovecot.stdout" "$D/log/dovecot.log" >&2 || true; do_stop; return 1; fi
  local t3; t3=$(now)
  if ! start_postfix; then tail -n 15 "$D/log/postfix.stdout" "$D/log/postfix.log" >&2 || true; do_stop; return 1; fi
  if ! start_helper; then tail -n 15 "$D/log/helper.log" >&2 || true; do_stop; return 1; fi
  local t4; t4=$(now)
  write_env
  log "$(awk -v a="$t0" -v b="$t1" -v c="$t2" -v d="$t3" -v e="$t4" \
    'BEGIN{printf "timing: install %.1fs, certs %.1fs, dovecot %.2fs, postfix %.2fs, total %.1fs", b-a, c-b, d-c, e-d, e-a}')"
  log "dovecot pid $(cat "$D/run/dovecot.pid"), postfix master pid $(cat "$D/run/postfix.pid")"
  cat "$D/env"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  status)
    for f in "$D"/run/*.pid; do [ -e "$f" ] && echo "$(basename "$f" .pid): $(cat "$f") $(alive "$(cat "$f")" && echo running || echo dead)"; done
    ss -ltnp 2>/dev/null | awk 'NR==1 || /dovecot|master|smtpd|python/' ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
