#!/usr/bin/env bash
# Brings up / tears down a throwaway single-node Slurm cluster on this machine for the test suite, from Debian 12's own
# packages (slurm-wlm 22.05, munge 0.5.15) and without systemd: munged, slurmctld and slurmd run as plain daemons whose
# config, munge key, pid files, logs, spool and saved state all live in one directory ($LMECH_SLURM_DIR, default
# /tmp/lmech-slurm), so nothing under /etc is touched and a system Slurm or munge (if any) is left alone.
#
#   scripts/slurm-local.sh start    # idempotent: installs the packages if missing, starts the daemons, waits for an idle node
#   scripts/slurm-local.sh stop     # idempotent: cancels the jobs, stops the daemons this script started
#   scripts/slurm-local.sh status   # exit 0 when the cluster is up and its node usable, 1 otherwise
#
# Client commands (sbatch, squeue, scancel, sinfo, scontrol) find this cluster through its config file:
#   export SLURM_CONF=${LMECH_SLURM_DIR:-/tmp/lmech-slurm}/slurm.conf
set -euo pipefail

dir=${LMECH_SLURM_DIR:-/tmp/lmech-slurm}
export SLURM_CONF=$dir/slurm.conf
export PATH=$PATH:/usr/sbin:/sbin   # munged, slurmctld and slurmd live in /usr/sbin, often not on a non-root PATH
host=$(hostname -s)
user=$(id -un)
munge_socket=$dir/munge/munge.socket.2
daemons=(slurmd slurmctld munged)   # stop order: the node first, munge (which both Slurm daemons need) last

log() { echo "slurm-local: $*" >&2; }

install_packages() {
  dpkg -s slurm-wlm munge >/dev/null 2>&1 && return 0
  local sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  log "installing slurm-wlm and munge"
  $sudo apt-get update -qq
  # Debian's postinst scripts may try to start the packaged services (slurmctld, slurmd, munge via init.d); in containers a
  # policy-rc.d usually forbids that, and otherwise they fail harmlessly without /etc/slurm/slurm.conf: we run our own.
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends slurm-wlm munge >/dev/null
}

# pid_alive NAME: the pid in $dir/run/NAME.pid belongs to a live process named NAME. kill -0 is not enough: this
# machine's init does not always reap orphans, so a killed daemon can linger as a zombie (state Z); and a stale pid file
# may name a pid that was reused by an unrelated process, hence the name check.
pid_alive() {
  local pid="" state
  [ -s "$dir/run/$1.pid" ] && read -r pid <"$dir/run/$1.pid" || true
  [[ $pid =~ ^[0-9]+$ ]] && [ -r "/proc/$pid/stat" ] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
  state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != [ZXx] ]]
}

# A round trip through munged; timeout because a wedged munged would otherwise hang the caller.
munge_ok() {
  timeout 5 munge -n -S "$munge_socket" 2>/dev/null | timeout 5 unmunge -S "$munge_socket" >/dev/null 2>&1
}

# The node's state as sinfo prints it ("idle", "mixed", "down*", ...), empty if slurmctld does not answer. Client
# commands retry for about 9 s while slurmctld is down, hence the timeout.
node_state() {
  timeout 12 sinfo -h -N -n "$host" -o %T 2>/dev/null | head -n 1 || true
}

# Usable: responding (no "*"), not drained or down, whether or not it is running jobs.
node_usable() {
  local state; state=$(node_state)
  [[ $state =~ ^(idle|mixed|allocated|completing) && $state != *"*"* && $state != *drain* ]]
}

healthy() {
  [ -f "$SLURM_CONF" ] && pid_alive munged && pid_alive slurmctld && pid_alive slurmd && munge_ok && node_usable
}

# stop_daemon NAME: SIGTERM, then SIGKILL after 10 s; waits until the process is gone or a zombie.
stop_daemon() {
  local name=$1 pid i
  if pid_alive "$name"; then
    read -r pid <"$dir/run/$name.pid"
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do pid_alive "$name" || break; sleep 0.2; done
    if pid_alive "$name"; then
      log "$name ignored SIGTERM, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 25; i++)); do pid_alive "$name" || break; sleep 0.2; done
    fi
    pid_alive "$name" && { log "error: $name (pid $pid) does not die"; return 1; }
  fi
  rm -f "$dir/run/$name.pid"
}

stop_all() {
  # Cancel the jobs first: slurmstepd (which runs a job's processes) outlives slurmd, so a job still running when the
  # daemons go would keep running, orphaned. Only possible while slurmctld, slurmd and munged are all up.
  if pid_alive munged && pid_alive slurmctld && pid_alive slurmd; then
    timeout 15 scancel --quiet --partition=debug 2>/dev/null || true
    local i
    for ((i = 0; i < 20; i++)); do
      [ -z "$(timeout 12 squeue -h -t running,completing -o %i 2>/dev/null || echo unknown)" ] && break
      sleep 0.5
    done
  fi
  local name
  for name in "${daemons[@]}"; do stop_daemon "$name"; done
  kill_orphan_steps
}

# After a crash of slurmctld or slurmd the jobs could not be cancelled: their slurmstepd (recognised by the SLURM_CONF it
# inherited from our slurmd) and the job processes below it are killed, so an old job does not go on writing files.
kill_orphan_steps() {
  local p comm roots=() victims
  for p in /proc/[0-9]*; do
    comm=""; read -r comm 2>/dev/null <"$p/comm" || true
    [ "$comm" = slurmstepd ] || continue
    # -z: the environment's entries end with NUL.
    if grep -qzxF "SLURM_CONF=$SLURM_CONF" "$p/environ" 2>/dev/null; then roots+=("${p#/proc/}"); fi
  done
  [ ${#roots[@]} -gt 0 ] || return 0
  # The roots and all their descendants (not zombies), from one snapshot of the process table.
  victims=$(ps -eo pid=,ppid=,stat= | awk -v roots="${roots[*]}" '
    BEGIN { n = split(roots, r, " "); for (i = 1; i <= n; i++) keep[r[i]] = 1 }
    { ppid[$1] = $2; stat[$1] = $3 }
    END {
      do { grew = 0; for (p in ppid) if (!(p in keep) && (ppid[p] in keep)) { keep[p] = 1; grew = 1 } } while (grew)
      for (p in keep) if (stat[p] !~ /^Z/) print p
    }')
  if [ -n "$victims" ]; then
    log "killing orphaned job steps: $(echo $victims)"
    # Freeze them all first: killed one by one, a job script whose child just died would run its next command.
    # shellcheck disable=SC2086
    kill -STOP $victims 2>/dev/null || true
    # shellcheck disable=SC2086
    kill -KILL $victims 2>/dev/null || true
  fi
}

write_conf() {
  # The node's hardware line (CPUs, sockets, cores, threads, RealMemory) exactly as slurmd measures it, so that the node
  # registers without a mismatch (a node that reports less than its configured resources is drained).
  local hw
  hw=$(slurmd -C | head -n 1 | sed -E 's/^NodeName=[^ ]+ //')
  [[ $hw == *CPUs=* ]] || { log "error: unexpected output of 'slurmd -C': $hw"; return 1; }
  cat >"$SLURM_CONF" <<EOF
# Written by scripts/slurm-local.sh at every start: a throwaway single-node cluster for the tests.
ClusterName=lmech
# Explicit address: no dependence on how (or whether) the host name resolves.
SlurmctldHost=$host(127.0.0.1)
SlurmUser=$user
SlurmdUser=$user
AuthType=auth/munge
CredType=cred/munge
# Our own munged, not the system one (socket used by both auth/munge and cred/munge).
AuthInfo=socket=$munge_socket
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
# proctrack/cgroup fails here (no usable freezer cgroup); with linuxproc and task/none no cgroup.conf is needed.
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
# There is no mailer; the default /usr/bin/mail would only log errors.
MailProg=/bin/true
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
# Cores (not whole nodes) are the unit of allocation, so several 1-CPU array tasks run at once.
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
# Set explicitly so the tests can read it back with 'scontrol show config'.
MaxArraySize=1001
# A node that was down (e.g. slurmd restarted) becomes usable again as soon as it registers.
ReturnToService=2
NodeName=$host NodeAddr=127.0.0.1 $hw State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munged() {
  local key=$dir/munge/munge.key i
  if [ ! -s "$key" ]; then
    log "creating munge key $key"
    (umask 077 && head -c 1024 /dev/urandom >"$key")
  fi
  chmod 400 "$key"
  rm -f "$munge_socket" "$munge_socket.lock"
  munged --key-file="$key" --socket="$munge_socket" --pid-file="$dir/run/munged.pid" \
    --log-file="$dir/log/munged.log" --seed-file="$dir/munge/munged.seed" </dev/null >>"$dir/log/munged.log" 2>&1 9>&-
  for ((i = 0; i < 50; i++)); do munge_ok && return 0; sleep 0.2; done
  fail_start "munged does not answer"
  return 1
}

print_logs() {
  local f
  for f in "$dir"/log/*.log; do
    [ -f "$f" ] || continue
    echo "===== tail of $f =====" >&2
    tail -n 30 "$f" >&2
  done
}

# A failed start shows why, then stops what it started (the logs stay for inspection).
fail_start() {
  log "error: $*"
  print_logs
  stop_all || true
}

start() {
  install_packages
  if healthy; then
    log "already up ($SLURM_CONF)"
    return 0
  fi
  # Anything half up (a daemon crashed, or a previous start failed) is torn down and the cluster rebuilt from scratch.
  stop_all
  mkdir -p "$dir/run" "$dir/log" "$dir/munge"
  chmod 755 "$dir" "$dir/munge"   # clients (any user) read slurm.conf and connect to the munge socket
  # Always from wiped state: after a crash, saved state would make slurmctld re-queue and re-run old jobs.
  rm -rf "$dir/state" "$dir/spool"
  mkdir -p "$dir/state" "$dir/spool"
  local f
  for f in "$dir"/log/*.log; do [ -f "$f" ] && mv -f "$f" "$f.old"; done
  write_conf
  start_munged
  # The daemons fork into the background; their output goes to their logs, not to the caller's (possibly piped) stdout,
  # and they must not inherit the lock's descriptor 9 (they would hold the lock for ever).
  slurmctld </dev/null >>"$dir/log/slurmctld.log" 2>&1 9>&-
  slurmd -N "$host" </dev/null >>"$dir/log/slurmd.log" 2>&1 9>&-
  local deadline=$((SECONDS + 30)) state=""
  while ((SECONDS < deadline)); do
    state=$(node_state)
    if [ "$state" = idle ]; then
      log "up: node $host idle, partition debug ($SLURM_CONF)"
      return 0
    fi
    # Fail fast when a daemon died (e.g. its port is taken); the grace period lets both write their pid files.
    if ((SECONDS > deadline - 27)) && ! { pid_alive slurmctld && pid_alive slurmd; }; then
      fail_start "slurmctld or slurmd died during startup"
      return 1
    fi
    sleep 0.5
  done
  fail_start "node $host not idle after 30 s (state: '${state:-no answer from slurmctld}')"
  return 1
}

status() {
  local name
  for name in munged slurmctld slurmd; do
    pid_alive "$name" || { echo "down: $name is not running"; return 1; }
  done
  munge_ok || { echo "down: munged does not answer"; return 1; }
  node_usable || { echo "down: node $host is '$(node_state)'"; return 1; }
  echo "up: node $host is '$(node_state)' (SLURM_CONF=$SLURM_CONF)"
}

# start and stop hold a lock, so that test processes running in parallel do not start (or stop) the cluster twice at once.
lock() {
  mkdir -p "$dir"
  exec 9>"$dir/lock"
  flock -w 120 9 || { log "error: $dir/lock is held by another start or stop"; exit 1; }
}

case "${1:-}" in
  start) lock; start ;;
  stop)
    lock
    if [ -d "$dir/run" ]; then stop_all; fi
    log "stopped"
    ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status   (state directory: \$LMECH_SLURM_DIR, default /tmp/lmech-slurm)" >&2; exit 2 ;;
esac
