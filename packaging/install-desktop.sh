#!/bin/sh
# Put Snapfind in the current user's applications menu: the menu entry (with "Open with
# Snapfind" on pictures), the icon and the AppStream data, under $XDG_DATA_HOME (no root needed).
#
#   install-desktop.sh [COMMAND]     COMMAND: the snapfind executable the entry starts; default:
#                                    the built bundle (dist/snapfind/snapfind), else the
#                                    `snapfind` found on PATH (pip or pipx install)
#   install-desktop.sh --uninstall   remove what this script installed
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
id=io.github.snapfind.Snapfind
data=${XDG_DATA_HOME:-$HOME/.local/share}
apps=$data/applications
icons=$data/icons/hicolor/scalable/apps
meta=$data/metainfo

refresh() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$apps" || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$apps/$id.desktop" "$icons/$id.svg" "$meta/$id.metainfo.xml"
    refresh
    echo "Removed Snapfind from the applications menu."
    exit 0
fi

command=${1:-}
if [ -z "$command" ]; then
    if [ -x "$root/dist/snapfind/snapfind" ]; then
        command=$root/dist/snapfind/snapfind
    elif command -v snapfind >/dev/null 2>&1; then
        command=$(command -v snapfind)
    else
        echo "install-desktop: no snapfind to start; run 'make package' or 'pip install .' first." >&2
        exit 1
    fi
fi
case $command in
    /*) ;;
    *) command=$(cd "$(dirname "$command")" && pwd)/$(basename "$command") ;;
esac
if [ ! -x "$command" ]; then
    echo "install-desktop: $command is not an executable." >&2
    exit 1
fi
case $command in
    *[\"\`\$\\]*)
        echo "install-desktop: the path $command holds a quote, \$, \` or \\; move Snapfind elsewhere." >&2
        exit 1 ;;
esac

mkdir -p "$apps" "$icons" "$meta"
awk -v cmd="$command" '
    /^Exec=/ { print "Exec=\"" cmd "\" %F"; next }
    /^TryExec=/ { print "TryExec=" cmd; next }
    { print }
' "$here/$id.desktop" > "$apps/$id.desktop.tmp"
mv "$apps/$id.desktop.tmp" "$apps/$id.desktop"
chmod 644 "$apps/$id.desktop"
cp "$root/desktop_app/resources/snapfind.svg" "$icons/$id.svg"
cp "$here/$id.metainfo.xml" "$meta/$id.metainfo.xml"
chmod 644 "$icons/$id.svg" "$meta/$id.metainfo.xml"
refresh
echo "Snapfind is in your applications menu (starts $command);"
echo "right-click a picture and choose Open With > Snapfind to find the ones like it."
