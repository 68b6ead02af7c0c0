#!/usr/bin/env bash
# A one-node Slurm cluster on this machine, with job accounting, for `make test-slurm`.
#
# Debian's Slurm (slurmctld, slurmd, slurmdbd with MariaDB, munge) runs as root on localhost; the
# daemons are started by hand (these machines have no systemd). Idempotent: packages are installed
# once, configuration files are rewritten only when they change, running daemons are left running
# (and told to reread a changed slurm.conf). Needs root.
#
# Why accounting: the Slurm executor plugin asks `sacct` for the state of its jobs (its default
# status command when sacct exists), and `sacct` needs slurmdbd; it also lets the test show that
# the jobs were accounted by Slurm.
#
# The node declares 2 GPUs (GRES) whose device files are two loop devices: placeholders, as no
# device is bound here (no cgroups). The profile's GPU requests
# (`gpu: 1` on the ensemble rules, sbatch --gpus=1) are then scheduled as on a GPU cluster; JAX
# finds no CUDA device in the job and uses the CPU. Memory is not a consumable resource here
# (CR_Core): the profile's requests (up to 16 GB) are checked against the node's memory, but jobs
# are packed by cores only.
set -euo pipefail

[ "$(id -u)" = 0 ] || { echo "setup.sh: needs root (installs packages, starts daemons)" >&2; exit 1; }

NODE=$(hostname -s)
CPUS=$(nproc)
MEM_MB=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))   # leave 1 GiB to the system
CLUSTER=nnqft
DB_PASS=nnqft-slurm-test        # a local test database on localhost only

log() { echo "[slurm-setup] $*"; }

# 1. Packages (once).
if ! command -v slurmctld >/dev/null || ! command -v slurmdbd >/dev/null || ! command -v mariadbd >/dev/null; then
    log "installing Debian's Slurm, munge and MariaDB"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        slurm-wlm slurmctld slurmd slurm-client slurmdbd munge mariadb-server >/dev/null
fi

# Write $2 (stdin) to $1 only if it differs; says whether it changed through the exit status.
write_if_changed() {
    local path=$1 tmp
    tmp=$(mktemp)
    cat >"$tmp"
    if [ -f "$path" ] && cmp -s "$tmp" "$path"; then rm -f "$tmp"; return 1; fi
    mv "$tmp" "$path"
    return 0
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# 2. munge (authentication between the Slurm commands and daemons).
mkdir -p /run/munge && chown munge:munge /run/munge
[ -s /etc/munge/munge.key ] || { mungekey --create --force && chown munge:munge /etc/munge/munge.key; }
if ! running /run/munge/munged.pid; then
    log "starting munged"
    runuser -u munge -- /usr/sbin/munged
fi
munge -n | unmunge >/dev/null

# 3. MariaDB with the accounting database.
mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld
if ! mariadb-admin ping --silent 2>/dev/null; then
    log "starting MariaDB"
    [ -d /var/lib/mysql/mysql ] || mariadb-install-db --user=mysql >/dev/null
    (setsid /usr/sbin/mariadbd --user=mysql >/var/log/mysql-slurm-test.log 2>&1 &)
    for _ in $(seq 60); do mariadb-admin ping --silent 2>/dev/null && break; sleep 1; done
fi
mariadb -e "CREATE DATABASE IF NOT EXISTS slurm_acct_db;
            CREATE USER IF NOT EXISTS 'slurm'@'localhost' IDENTIFIED BY '$DB_PASS';
            GRANT ALL ON slurm_acct_db.* TO 'slurm'@'localhost';"

# 4. Configuration.
mkdir -p /var/lib/slurm/slurmctld /var/lib/slurm/slurmd /var/log/slurm /run/slurm
changed=0
write_if_changed /etc/slurm/slurmdbd.conf <<EOF && changed=1 || true
# Written by nnqft's .ci/slurm/setup.sh
AuthType=auth/munge
DbdHost=localhost
SlurmUser=root
PidFile=/run/slurm/slurmdbd.pid
LogFile=/var/log/slurm/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=localhost
StorageUser=slurm
StoragePass=$DB_PASS
StorageLoc=slurm_acct_db
EOF
chmod 600 /etc/slurm/slurmdbd.conf

write_if_changed /etc/slurm/slurm.conf <<EOF && changed=1 || true
# Written by nnqft's .ci/slurm/setup.sh: one node, this machine.
ClusterName=$CLUSTER
SlurmctldHost=$NODE
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
# No cgroups in this container: job processes are tracked by process tree, and bound to their
# allocated cores by CPU affinity (a one-core job sees one core, as on a cluster, so XLA runs it with
# one thread where the local run has all of them: results must not depend on it).
ProctrackType=proctrack/linuxproc
TaskPlugin=task/affinity
MpiDefault=none
ReturnToService=2
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
GresTypes=gpu
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=localhost
AccountingStorageTRES=gres/gpu
# The plugin puts the rule and wildcards of each job in its comment: keep it for sacct.
AccountingStoreFlags=job_comment
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=30
# Keep finished jobs visible to squeue for 5 minutes too (the plugin may ask either).
MinJobAge=300
NodeName=$NODE CPUs=$CPUS RealMemory=$MEM_MB Gres=gpu:2 State=UNKNOWN
PartitionName=main Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF

write_if_changed /etc/slurm/gres.conf <<EOF && changed=1 || true
# Placeholder GPUs (no GPU on this machine): see .ci/slurm/setup.sh.
NodeName=$NODE Name=gpu File=/dev/loop[0-1]
EOF

# 5. Daemons: the database daemon first (slurmctld registers the cluster with it).
if ! running /run/slurm/slurmdbd.pid; then
    log "starting slurmdbd"
    slurmdbd
    for _ in $(seq 30); do sacctmgr -n list cluster >/dev/null 2>&1 && break; sleep 1; done
fi
sacctmgr -n list cluster format=cluster | grep -qw "$CLUSTER" || sacctmgr -i add cluster "$CLUSTER" >/dev/null
# A changed configuration (plugins, GRES) takes a restart of both Slurm daemons; job state survives
# in StateSaveLocation.
stop() { kill "$(cat "$1")"; for _ in $(seq 30); do running "$1" || return 0; sleep 1; done; }
if [ $changed = 1 ]; then
    for daemon in slurmd slurmctld; do
        if running /run/slurm/$daemon.pid; then log "configuration changed: stopping $daemon"; stop /run/slurm/$daemon.pid; fi
    done
fi
if ! running /run/slurm/slurmctld.pid; then
    log "starting slurmctld"
    slurmctld
fi
if ! running /run/slurm/slurmd.pid; then
    log "starting slurmd"
    # Jobs inherit slurmd's niceness: the test cluster shares this machine with interactive work.
    nice -n 10 slurmd
fi

# 6. Wait for the node to take jobs (a node left down by an earlier session is returned to service).
for i in $(seq 60); do
    state=$(sinfo -h -n "$NODE" -o %T 2>/dev/null || true)
    case "$state" in
        idle*|mixed*|allocated*) break ;;
        down*|drain*|inval*) scontrol update nodename="$NODE" state=resume || true ;;
    esac
    sleep 1
done
case "$state" in idle*|mixed*|allocated*) ;; *) echo "node $NODE is '$state' after 60 s" >&2; exit 1 ;; esac
log "cluster $CLUSTER is up:"
sinfo -N -o "%N %T %c %m %G"
