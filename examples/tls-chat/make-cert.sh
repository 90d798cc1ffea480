#!/usr/bin/env bash
# Makes a self-signed certificate and key for the TLS chat example (for localhost and 127.0.0.1).
#   examples/tls-chat/make-cert.sh [DIR]     (default: examples/tls-chat)
# Writes DIR/cert.pem and DIR/key.pem (unencrypted PKCS#8, readable by you only), valid 365 days.
set -euo pipefail
dir="${1:-$(dirname "$0")}"
mkdir -p "$dir"
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
  -keyout "$dir/key.pem" -out "$dir/cert.pem" \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null
echo "wrote $dir/cert.pem and $dir/key.pem"
