#!/usr/bin/env bash
# Builds pgvector for the local PostgreSQL 15 from Debian trixie's source package, once.
# Bookworm's archive has no pgvector for PG 15; trixie's source builds against postgresql-server-dev-15.
set -euo pipefail
pgver=$(ls /etc/postgresql | sort -n | tail -1)
if [ -f "/usr/share/postgresql/$pgver/extension/vector.control" ]; then
  echo "pgvector already installed for PostgreSQL $pgver"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
if [ ! -f /etc/apt/sources.list.d/trixie-src.sources ]; then
  cat > /etc/apt/sources.list.d/trixie-src.sources <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq "postgresql-server-dev-$pgver" build-essential dpkg-dev >/dev/null
work=$(mktemp -d)
cd "$work"
apt-get source -qq pgvector >/dev/null
cd pgvector-*/
make -s PG_CONFIG="/usr/lib/postgresql/$pgver/bin/pg_config" OPTFLAGS=""
make -s install PG_CONFIG="/usr/lib/postgresql/$pgver/bin/pg_config"
rm -rf "$work"
echo "pgvector built and installed for PostgreSQL $pgver"
