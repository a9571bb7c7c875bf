#!/usr/bin/env bash
# Puts the test photos listed in corpus.tsv into tests/corpus/images (git-ignored), once:
# downloads the Debian packages that hold them (about 150 MB), extracts only the listed files,
# checks each against its pinned SHA-256 and deletes the packages. Later runs find the files and
# download nothing. Derived cases (the EXIF-rotated photo, hostile files) are made in code.
set -euo pipefail
cd "$(dirname "$0")"
images=images
mkdir -p "$images"

manifest() { grep -v '^#' corpus.tsv; }
good() { [ -f "$images/$1" ] && echo "$2  $images/$1" | sha256sum --check --status; }

missing_packages=$(manifest | while IFS=$'\t' read -r file package _ sha; do good "$file" "$sha" || echo "$package"; done | sort -u)
[ -z "$missing_packages" ] && exit 0

sudo=(); [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo=(sudo)
downloads=$(mktemp -d)
trap 'rm -rf "$downloads"' EXIT
echo "Fetching the test photos from Debian packages: $(echo $missing_packages) ..."
# apt-get download needs the package lists; a fresh machine may have none yet.
for package in $missing_packages; do
  apt-cache show "$package" >/dev/null 2>&1 || { "${sudo[@]}" apt-get update -qq; break; }
done
# apt's sandbox user cannot write to a folder of ours: download as ourselves.
(cd "$downloads" && apt-get download -qq -o APT::Sandbox::User="$(id -un)" $missing_packages)

manifest | while IFS=$'\t' read -r file package path sha; do
  good "$file" "$sha" && continue
  deb=$(ls "$downloads/${package}_"*.deb)
  dpkg-deb --fsys-tarfile "$deb" | tar -xO "./$path" > "$images/$file.tmp"
  if ! echo "$sha  $images/$file.tmp" | sha256sum --check --status; then
    rm -f "$images/$file.tmp"
    echo "tests/corpus: $file from $package does not match its pinned SHA-256 (corpus.tsv). Debian has changed the file; update the manifest after checking the new one." >&2
    exit 1
  fi
  mv "$images/$file.tmp" "$images/$file"
done
echo "Test photos ready in tests/corpus/images ($(du -sh "$images" | cut -f1))."
