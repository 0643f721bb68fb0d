# Sourced by the quality scripts: `current ARGS…` runs the repository's current build from a snapshot of it
# (runs/quality/.cli/<hash of the two assemblies>/), so rebuilding the repository while a scoring runs cannot replace
# the assemblies under it.
current() {
  local bin="$root/src/LightGlm.Cli/bin/Release/net10.0"
  local key; key=$(cat "$bin/LightGlm.dll" "$bin/LightGlm.Cli.dll" | md5sum | cut -c1-12)
  local snap="$root/runs/quality/.cli/$key"
  if [ ! -f "$snap/LightGlm.Cli.dll" ]; then
    mkdir -p "$root/runs/quality/.cli" && rm -rf "$snap.tmp" && cp -r "$bin" "$snap.tmp" && mv "$snap.tmp" "$snap"
  fi
  (cd "$root" && dotnet "$snap/LightGlm.Cli.dll" "$@")
}
