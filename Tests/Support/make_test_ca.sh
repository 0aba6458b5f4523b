#!/bin/sh
# Makes a private CA and a server certificate it signed, for the TLS tests, in DIR:
#   ca.pem                 the private CA (what smtp.ca_file points at)
#   server.pem, server.key the server's certificate (127.0.0.1, ::1, localhost) and key
#   other-ca.pem           an unrelated CA, which did not sign server.pem
# Usage: make_test_ca.sh DIR
set -eu
dir=$1
mkdir -p "$dir"
cd "$dir"
quiet() { "$@" >/dev/null 2>openssl.log || { cat openssl.log >&2; exit 1; }; }
quiet openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=herold test CA" \
    -keyout ca.key -out ca.pem -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
quiet openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=herold other CA" \
    -keyout other-ca.key -out other-ca.pem -addext "basicConstraints=critical,CA:TRUE"
quiet openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout server.key -out server.csr
printf '%s\n' "subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost" "extendedKeyUsage=serverAuth" \
    "basicConstraints=CA:FALSE" > server.ext
quiet openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile server.ext -out server.pem
rm -f server.csr server.ext ca.srl openssl.log
