// Package numa knows the machine's shape and carves it into shards: it reads
// the CPU and NUMA topology from sysfs, makes the shard plan (which shard
// runs on which CPUs, binds its memory to which node, listens on which port,
// may use how much memory), and applies a shard's CPU affinity and memory
// policy to the process that runs it. Starting and supervising processes and
// the command line belong to cmd/shoal.
//
// # Topology
//
// Read(root) reads sys/devices/system/{cpu,node} under root ("/" live, a
// fixture tree under testdata/ in tests). It tolerates what real machines
// lack: no node/ (one node with every CPU, memory from proc/meminfo), CPUs
// without topology/ (offline CPUs lose it: each is its own core), no
// core_cpus_list (kernels before 5.7: thread_siblings_list). A Topology is
// immutable once read and may be shared by any goroutines.
//
// # Plan
//
// MakePlan(t, opts) is pure: the same topology and options give the same
// plan. By default there is one shard per physical core, whose SMT siblings
// all go to that shard, shards numbered node by node; PlanOptions documents
// every knob and the order in which reserved cores and proportional shard
// counts are chosen. Doubtful but possible requests (more shards than cores,
// a memory cap above 25 GiB, idle nodes) succeed with Plan.Warnings;
// impossible ones fail with an error wrapping ErrPlan.
//
// The JSON form of a Plan (encoding/json on *Plan) is the interface to
// scripts and is stable within a PlanVersion:
//
//	{
//	  "version": 1,                     // PlanVersion
//	  "topology": "2 nodes, ...",       // Topology.Summary()
//	  "base_port": 6379,
//	  "shards": [                       // ordered by id
//	    {"id": 0, "node": 0, "mem_node": 0, "cpus": [0, 32],
//	     "port": 6379, "mem_cap": 5325717504}
//	  ],
//	  "reserved_cpus": [15, 47],        // ascending, [] when none
//	  "idle_cpus": [],                  // ascending, [] when none
//	  "warnings": []                    // sentences, [] when none
//	}
//
// mem_node is -1 when the shard's memory policy is left alone; mem_cap is in
// bytes, 0 for no cap. Lists are never null.
//
// # Affinity and memory policy
//
// SetAffinity/GetAffinity wrap sched_setaffinity/sched_getaffinity for one
// thread (tid 0: the caller's). SetMemPolicy/GetMemPolicy wrap
// set_mempolicy/get_mempolicy, which act on the calling thread only, so
// call them from a goroutine that holds runtime.LockOSThread; they pass the
// kernel a nodemask of MaxMemNode+1 bits with maxnode set the way the kernel
// expects (x/sys/unix.SetMemPolicy passes one bit too few). None of these
// allocate on success.
//
// StartPinned(cmd, cpus, node) starts a child with a shard's CPUs and
// memory node from a locked, temporarily re-pinned thread; its
// documentation explains why the child, and nothing else, inherits them.
// Affinity is visible in /proc/PID/status (Cpus_allowed_list); the memory
// policy is not (Mems_allowed_list shows the cpuset), but
// /proc/PID/numa_maps prints it for every mapping without a policy of its
// own ("bind:1").
package numa
