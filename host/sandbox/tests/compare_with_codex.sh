#!/bin/sh
# Runs the escape-matrix attempts of codex-sandbox-probe under Codex's own
# sandbox (`codex sandbox`), one policy at a time, to compare verdicts by hand.
# Needs python3 (the listeners) and a built probe (cargo build -p codex-sandbox).
C=${CODEX_BIN:?set CODEX_BIN to the Codex 0.169 native binary (node_modules/@openai/codex-linux-x64/vendor/*/bin/codex)}
P=${PROBE_BIN:-${CARGO_TARGET_DIR:-target}/debug/codex-sandbox-probe}
export CODEX_HOME=$(mktemp -d)
python3 -c "
import socket,threading,os
s=socket.socket(); s.bind(('127.0.0.1',47123)); s.listen(50)
u=socket.socket(socket.AF_UNIX); 
try: os.unlink('/var/tmp/cmp.sock')
except: pass
u.bind('/var/tmp/cmp.sock'); u.listen(50)
def acc(x):
  while True:
    c,_=x.accept(); c.close()
threading.Thread(target=acc,args=(u,),daemon=True).start()
acc(s)
" & LPID=$!
sleep 0.5
for pol in ro ww wwnet; do
  case $pol in
    ro) OPTS="";;
    ww) OPTS="-c sandbox_mode='\"workspace-write\"'";;
    wwnet) OPTS="-c sandbox_mode='\"workspace-write\"' -c sandbox_workspace_write.network_access=true";;
  esac
  B=$(mktemp -d -p /var/tmp); W=$B/work; M=$B/more; O=$B/outside
  mk() { rm -rf $B/*; mkdir -p $W/.git/hooks $W/.codex $W/decoy $M $O; echo '[core]' > $W/.git/config; touch $W/.codex/config.toml $W/decoy/decoy-marker; ln -s ../outside $W/link-out; }
  echo "== $pol"
  while read name args; do
    mk
    ROOTS=""; [ $pol != ro ] && ROOTS="-c 'sandbox_workspace_write.writable_roots=[\"$M\"]'"
    r=$(cd $W && eval $C sandbox $OPTS $ROOTS -- $P $args 2>/dev/null | tail -1)
    printf '%-28s %s\n' "$name" "$r"
  done <<LIST
write-cwd write $W/new.txt
write-tmp write /tmp/cmp-probe-file
write-home write-home cmp-probe-file
write-outside write $O/f
write-devnull write /dev/null
git-hooks write $W/.git/hooks/pre-commit
git-config write $W/.git/config
codex-config write $W/.codex/config.toml
create-git-missing create-dir-and-hook $M/.git
create-codex-missing create-dir-and-hook $M/.codex
symlink-out write $W/link-out/f
rename-over-git exchange $W/decoy $W/.git
codex-symlink replace-with-symlink $W/.codex $O
read-passwd read /etc/passwd
tcp tcp 127.0.0.1:47123
dns dns
ptrace ptrace-traceme
unix-abstract unix-abstract
unix-connect unix-connect /var/tmp/cmp.sock
no-new-privs no-new-privs
LIST
  rm -f /tmp/cmp-probe-file /root/cmp-probe-file; rm -rf $B
done
kill $LPID
