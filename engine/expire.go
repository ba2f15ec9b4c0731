package engine

import "shoal/engine/internal/kv"

// Active expiry, as Redis's activeExpireCycle: besides deleting expired
// keys when they are touched (lazy expiry, db.go), the loop calls
// ActiveExpire from its cron. It sweeps the keys that have a time to live
// in batches, deleting those whose time has passed, and goes on while a
// batch finds many expired keys and the time budget lasts, so memory held
// by keys nobody reads again is reclaimed at a bounded CPU cost.
const (
	expireBatch      = 20 // keys checked per batch (ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP)
	expireAcceptable = 10 // % of expired keys in a batch under which the cycle stops
)

type expireCycle struct {
	cursor uint64
	doomed []kv.Ref
	avgTTL int64 // running estimate of the time to live of volatile keys (ms), for INFO keyspace
}

// ActiveExpire runs one cycle with a budget of budgetNs nanoseconds of
// CPU (Redis gives its slow cycle 25% of each cron period). It returns
// true when it stopped because the budget ran out, so the loop may run
// a further short cycle before it sleeps, as Redis's fast cycle does.
func (s *Shard) ActiveExpire(budgetNs int64) bool {
	if s.db.Volatile() == 0 || s.loading || s.debug.noActiveExpire || s.paused() {
		return false
	}
	start := nanotime()
	deadline := start + budgetNs
	e := &s.expire
	capped := false
	var checkedAll, expiredAll int64
	for {
		e.doomed = e.doomed[:0]
		checked := 0
		var ttlSum, ttlN int64
		e.cursor = s.db.ScanVolatile(e.cursor, expireBatch, func(r kv.Ref) {
			checked++
			if s.expired(r) {
				e.doomed = append(e.doomed, r)
			} else {
				ttlSum += s.db.Expire(r) - s.nowMs
				ttlN++
			}
		})
		if ttlN > 0 {
			// As Redis: each batch's average weighs 2% in the estimate.
			avg := ttlSum / ttlN
			if e.avgTTL == 0 {
				e.avgTTL = avg
			} else {
				e.avgTTL = e.avgTTL/50*49 + avg/50
			}
		}
		for _, r := range e.doomed {
			s.expireNow(r)
		}
		checkedAll += int64(checked)
		expiredAll += int64(len(e.doomed))
		acceptable := expireAcceptable - (s.Config.ActiveExpireEffort - 1)
		if checked == 0 || len(e.doomed)*100 <= checked*acceptable {
			break
		}
		if nanotime() >= deadline {
			capped = true
			s.Stats.ExpiredTimeCapped++
			break
		}
	}
	ms := (nanotime() - start) / 1e6
	s.Stats.ExpireCycleTimeUsed += ms
	s.latencyIfNeeded(eventExpireCycle, ms)
	if checkedAll > 0 {
		// A running average of the share of stale keys, as Redis's
		// expired_stale_perc.
		perc := float64(expiredAll) / float64(checkedAll)
		s.Stats.ExpiredStalePerc = perc*0.05 + s.Stats.ExpiredStalePerc*0.95
	}
	return capped
}

// Cron is the shard's periodic housekeeping, called by the loop hz times a
// second: the end of a client pause, active expiry within its budget
// (none while clients are paused, pause.go) and a slice of incremental
// rehashing (Redis's activerehashing: 1 ms per call at most).
func (s *Shard) Cron() {
	s.Tick()
	s.pauseCron()
	s.expireBlocked()
	s.metrics.sample(s)
	s.aofCron()
	s.lazyFreeCron()
	if s.track.clients > 0 {
		s.trackingLimit()
	}
	if s.Config.Maxmemory > 0 {
		s.sampleMemory()
		s.evictCron()
	}
	hz := s.Config.Hz
	if hz <= 0 {
		hz = 10
	}
	// active-expire-effort 1..10 raises the CPU share from 25% by 2 points
	// a step, as Redis's config_cycle_slow_time_perc does.
	effort := int64(s.Config.ActiveExpireEffort - 1)
	s.ActiveExpire(int64(1e9/hz) * (25 + 2*effort) / 100)
	deadline := nanotime() + 1e6
	for s.db.Rehash(100) && nanotime() < deadline {
	}
}
