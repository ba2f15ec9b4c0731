#!/usr/bin/env bash
# shoal-baremetal.sh: prepare a dedicated host for Shoal, then run it.
#
# Checks what a production host needs, explains every setting that is off
# and what it would change, changes it only with --apply, then execs
# `shoal` with the options given after --. Run it as ExecStart of a
# systemd unit (contrib/systemd/shoal.service) with --apply, so every
# start re-applies the settings, which the kernel forgets at reboot.
#
#   shoal-baremetal.sh [options] [-- shoal options ...]
#
# Exit status: with --check, 0 when the host is ready and 1 when something
# needs changing; otherwise the script becomes shoal (exec), or exits 1
# when an --apply step failed and 2 on a usage error.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: shoal-baremetal.sh [options] [-- shoal options ...]

Check this host for Shoal, explain what is off, and run shoal:

  net.core.somaxconn          >= the shards' tcp-backlog (511), or the kernel
                              truncates their listen backlog
  kernel.io_uring_disabled    0, or every shard falls back to epoll
  transparent huge pages      never or madvise (as Redis advises: "always"
                              makes latency spikes and bloats memory)
  vm.overcommit_memory        1 (as Redis advises), so allocations under memory
                              pressure do not fail
  open files (ulimit -n)      >= --nofile, as each client is a descriptor
  locked memory (ulimit -l)   >= --memlock KiB where io_uring charges its rings
                              to it (kernels before 5.12)
  NIC interrupts              on the --irq-cpus CPUs, which the plan keeps free
                              ("shoal topo --reserve-cores N" shows them)

Options:
  --apply           change what is off (needs root for the kernel settings),
                    saying what each change is; without it nothing is changed
  --check           only report, and exit 0 if the host is ready, 1 if not;
                    shoal is not run
  --irq-cpus LIST   steer the NIC queues' interrupts to these CPUs (0-1,32-33)
  --nic IFACE       the NIC whose interrupts are steered (repeatable; default:
                    every interface backed by a device)
  --nofile N        open files wanted (default 1048576)
  --memlock KIB     locked memory wanted where it matters (default 65536)
  --shoal PATH      the shoal binary (default: $SHOAL_BIN, else shoal beside
                    this script, else shoal on PATH)
  --root DIR        read and write /proc and /sys under DIR (a copy, for tests)
  -h, --help        this help

Everything after -- is given to shoal unchanged, its own -- included:
  shoal-baremetal.sh --apply --irq-cpus 0-1 -- --reserve-cores 2 -- --maxclients 50000
EOF
}

apply=0
check_only=0
irq_cpus=""
nics=()
want_nofile=1048576
want_memlock=65536
shoal_bin="${SHOAL_BIN:-}"
root=""
tcp_backlog=511

need_arg() { [ $# -ge 2 ] || { echo "shoal-baremetal: $1 needs a value" >&2; exit 2; }; }
is_count() { [[ $1 =~ ^[0-9]+$ ]]; }

while [ $# -gt 0 ]; do
  case $1 in
    --apply) apply=1 ;;
    --check) check_only=1 ;;
    --irq-cpus) need_arg "$@"; irq_cpus=$2; shift ;;
    --nic) need_arg "$@"; nics+=("$2"); shift ;;
    --nofile) need_arg "$@"; want_nofile=$2; shift ;;
    --memlock) need_arg "$@"; want_memlock=$2; shift ;;
    --shoal) need_arg "$@"; shoal_bin=$2; shift ;;
    --root) need_arg "$@"; root=${2%/}; shift ;;
    -h|--help) usage; exit 0 ;;
    --) shift; break ;;
    *) echo "shoal-baremetal: unknown option $1 (shoal's options go after --)" >&2; exit 2 ;;
  esac
  shift
done
is_count "$want_nofile" || { echo "shoal-baremetal: --nofile must be a number" >&2; exit 2; }
is_count "$want_memlock" || { echo "shoal-baremetal: --memlock must be a number of KiB" >&2; exit 2; }
if [ -n "$irq_cpus" ] && ! [[ $irq_cpus =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]]; then
  echo "shoal-baremetal: --irq-cpus must be a CPU list such as 0-1,32-33" >&2
  exit 2
fi
if [ $apply = 1 ] && [ $check_only = 1 ]; then
  echo "shoal-baremetal: --apply and --check exclude each other" >&2
  exit 2
fi

ok=0       # settings found right
off=0      # settings found off (and, with --apply, changed)
failed=0   # changes that failed

say() { printf '%s\n' "$*"; }
good() { ok=$((ok + 1)); say "ok      $*"; }
# bad WHAT WHY: a setting that is off; the caller changes it with --apply.
bad() {
  off=$((off + 1))
  if [ $apply = 1 ]; then say "change  $1"; else say "off     $1"; fi
  say "        why: $2"
}
fix() { say "        fix: $*"; }
info() { say "note    $*"; }

# write_file PATH VALUE WHAT: the --apply step writing VALUE into PATH.
write_file() {
  if [ $apply = 1 ]; then
    if printf '%s\n' "$2" 2>/dev/null >"$1"; then
      say "        done: $3"
    else
      failed=$((failed + 1))
      say "        FAILED: $3 (writing $1; run as root)"
    fi
  fi
}

sysctl_path() { printf '%s/proc/sys/%s' "$root" "${1//.//}"; }

# check_sysctl NAME OP WANT WHY: NAME's value must be OP (ge or eq) WANT.
check_sysctl() {
  local name=$1 op=$2 want=$3 why=$4 path cur
  path=$(sysctl_path "$name")
  if [ ! -r "$path" ]; then
    info "$name: not present on this kernel ($path), nothing to do"
    return
  fi
  cur=$(<"$path")
  local right=0
  case $op in
    ge) [ "$cur" -ge "$want" ] && right=1 ;;
    eq) [ "$cur" -eq "$want" ] && right=1 ;;
  esac
  if [ $right = 1 ]; then
    good "$name = $cur"
    return
  fi
  bad "$name = $cur, want $([ "$op" = ge ] && printf '>= ')$want" "$why"
  fix "sysctl -w $name=$want (and $name = $want in /etc/sysctl.d/ to keep it across reboots)"
  write_file "$path" "$want" "$name = $want"
}

say "Checking this host for Shoal$([ $apply = 1 ] && printf ', applying what is off')$([ -n "$root" ] && printf ' (under %s)' "$root"):"

check_sysctl net.core.somaxconn ge "$tcp_backlog" \
  "each shard listens with tcp-backlog $tcp_backlog; the kernel silently truncates it to somaxconn, and bursts of connects are dropped"
check_sysctl kernel.io_uring_disabled eq 0 \
  "io_uring is disabled (1: for unprivileged processes, 2: for all); every shard falls back to the slower epoll loop"
check_sysctl vm.overcommit_memory eq 1 \
  "Redis advises 1: the heuristic mode (0) may refuse a large allocation while memory is tight, failing a shard that grows its tables"

thp=$root/sys/kernel/mm/transparent_hugepage/enabled
if [ -r "$thp" ]; then
  cur=$(<"$thp")
  mode=${cur#*[}
  mode=${mode%%]*}
  if [ "$mode" = never ] || [ "$mode" = madvise ]; then
    good "transparent huge pages: $mode"
  else
    bad "transparent huge pages: $mode, want madvise or never" \
      "as Redis warns, THP always makes latency spikes (huge page compaction, copy of 2 MB pages) and bloats memory"
    fix "echo madvise > /sys/kernel/mm/transparent_hugepage/enabled (at every boot)"
    write_file "$thp" madvise "transparent huge pages = madvise"
  fi
else
  info "transparent huge pages: not configurable here ($thp), nothing to do"
fi

# check_limit FLAG NAME WANT UNIT WHY: the shell's soft limit ulimit -FLAG,
# inherited by shoal, must be at least WANT (or unlimited).
check_limit() {
  local flag=$1 name=$2 want=$3 unit=$4 why=$5 soft hard
  soft=$(ulimit -S"$flag")
  hard=$(ulimit -H"$flag")
  if [ "$soft" = unlimited ] || [ "$soft" -ge "$want" ]; then
    good "$name (ulimit -$flag) = $soft$unit"
    return
  fi
  bad "$name (ulimit -$flag) = $soft$unit (hard limit $hard), want >= $want$unit" "$why"
  fix "LimitNOFILE=/LimitMEMLOCK= in the systemd unit, or /etc/security/limits.conf; --apply raises it for this run"
  if [ $apply = 1 ]; then
    if [ "$hard" != unlimited ] && [ "$hard" -lt "$want" ]; then
      if ulimit -H"$flag" "$want" 2>/dev/null; then
        say "        done: hard limit raised to $want$unit"
      fi
    fi
    if ulimit -S"$flag" "$want" 2>/dev/null; then
      say "        done: $name = $want$unit for shoal"
    else
      failed=$((failed + 1))
      say "        FAILED: $name stays $soft$unit (hard limit $(ulimit -H"$flag")$unit; raising it needs root)"
    fi
  fi
}

check_limit n "open files" "$want_nofile" "" \
  "every client connection is a file descriptor: shards refuse clients beyond it (maxclients is lowered to fit)"

kver=$(uname -r)
kmaj=${kver%%.*}
kmin=${kver#*.}
kmin=${kmin%%.*}
if [ "$kmaj" -gt 5 ] || { [ "$kmaj" -eq 5 ] && [ "$kmin" -ge 12 ]; }; then
  good "locked memory: not charged by io_uring on kernel $kver (5.12 and later use the memory cgroup), ulimit -l $(ulimit -Sl)"
else
  check_limit l "locked memory" "$want_memlock" " KiB" \
    "kernel $kver charges io_uring rings and buffers to locked memory: shards fail to set up io_uring and fall back to epoll"
fi

# NIC interrupts.
irqbalance_running() {
  local p
  for p in /proc/[0-9]*/comm; do
    [ "$(cat "$p" 2>/dev/null)" = irqbalance ] && return 0
  done
  return 1
}

if [ -n "$irq_cpus" ]; then
  if [ ${#nics[@]} -eq 0 ]; then
    for d in "$root"/sys/class/net/*; do
      [ -e "$d/device" ] && nics+=("${d##*/}")
    done
  fi
  if [ ${#nics[@]} -eq 0 ]; then
    info "NIC interrupts: no interface backed by a device under $root/sys/class/net; name one with --nic"
  fi
  for nic in "${nics[@]}"; do
    irqs=()
    if [ -d "$root/sys/class/net/$nic/device/msi_irqs" ]; then
      for f in "$root/sys/class/net/$nic/device/msi_irqs"/*; do
        [ -e "$f" ] && irqs+=("${f##*/}")
      done
    fi
    if [ ${#irqs[@]} -eq 0 ] && [ -r "$root/proc/interrupts" ]; then
      # No MSI list: the IRQs whose action names the interface (eth0-TxRx-0).
      while read -r irq _; do
        irqs+=("${irq%:}")
      done < <(grep -E "^ *[0-9]+:.*[[:space:]]$nic([-@[:space:]]|$)" "$root/proc/interrupts" || true)
    fi
    if [ ${#irqs[@]} -eq 0 ]; then
      info "NIC interrupts of $nic: none found (no $root/sys/class/net/$nic/device/msi_irqs, no line in /proc/interrupts)"
      continue
    fi
    right=0 wrong=()
    for irq in "${irqs[@]}"; do
      f=$root/proc/irq/$irq/smp_affinity_list
      [ -r "$f" ] || continue
      if [ "$(<"$f")" = "$irq_cpus" ]; then right=$((right + 1)); else wrong+=("$irq"); fi
    done
    if [ ${#wrong[@]} -eq 0 ]; then
      good "NIC interrupts of $nic: $right IRQs on CPUs $irq_cpus"
      continue
    fi
    bad "NIC interrupts of $nic: ${#wrong[@]} of $((right + ${#wrong[@]})) IRQs not on CPUs $irq_cpus (IRQs ${wrong[*]})" \
      "interrupts landing on a shard's CPU steal its time and its cache; the plan keeps CPUs $irq_cpus free for them"
    fix "echo $irq_cpus > /proc/irq/N/smp_affinity_list for each of them"
    for irq in "${wrong[@]}"; do
      write_file "$root/proc/irq/$irq/smp_affinity_list" "$irq_cpus" "IRQ $irq -> CPUs $irq_cpus"
    done
  done
  if [ -z "$root" ] && irqbalance_running; then
    info "irqbalance is running and moves interrupts back: stop it (systemctl disable --now irqbalance) or ban the shards' CPUs (IRQBALANCE_BANNED_CPULIST)"
  fi
fi

say "$ok ok, $off off$([ $apply = 1 ] && printf ' (changed), %d failed' "$failed")."
if [ $check_only = 1 ]; then
  [ $off = 0 ] && exit 0
  say "Run with --apply (as root) to change what is off."
  exit 1
fi
if [ $failed -gt 0 ]; then
  say "Not starting shoal: $failed change(s) failed."
  exit 1
fi
if [ $off -gt 0 ] && [ $apply = 0 ]; then
  say "Starting shoal anyway; run with --apply (as root) to change what is off."
fi

if [ -z "$shoal_bin" ]; then
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  if [ -x "$here/shoal" ]; then
    shoal_bin=$here/shoal
  elif command -v shoal >/dev/null 2>&1; then
    shoal_bin=$(command -v shoal)
  else
    say "shoal-baremetal: no shoal binary: give --shoal PATH or set SHOAL_BIN" >&2
    exit 1
  fi
fi
say "exec $shoal_bin $*"
exec "$shoal_bin" "$@"
