-- periods
SELECT p, period_end FROM (VALUES (24287, DATE '2023-12-31'), (24288, DATE '2024-01-31'), (24289, DATE '2024-02-29'), (24290, DATE '2024-03-31'), (24291, DATE '2024-04-30'), (24292, DATE '2024-05-31'), (24293, DATE '2024-06-30'), (24294, DATE '2024-07-31'), (24295, DATE '2024-08-31'), (24296, DATE '2024-09-30'), (24297, DATE '2024-10-31'), (24298, DATE '2024-11-30'), (24299, DATE '2024-12-31'), (24300, DATE '2025-01-31'), (24301, DATE '2025-02-28'), (24302, DATE '2025-03-31'), (24303, DATE '2025-04-30'), (24304, DATE '2025-05-31'), (24305, DATE '2025-06-30'), (24306, DATE '2025-07-31'), (24307, DATE '2025-08-31'), (24308, DATE '2025-09-30'), (24309, DATE '2025-10-31'), (24310, DATE '2025-11-30'), (24311, DATE '2025-12-31'), (24312, DATE '2026-01-31'), (24313, DATE '2026-02-28'), (24314, DATE '2026-03-31'), (24315, DATE '2026-04-30'), (24316, DATE '2026-05-31'), (24317, DATE '2026-06-30'), (24318, DATE '2026-07-31'), (24319, DATE '2026-08-31'), (24320, DATE '2026-09-30'), (24321, DATE '2026-10-31')) AS t(p, period_end)

-- rates
WITH given AS (
  SELECT upper(currency) AS currency, CAST(p AS INTEGER) AS p, CAST(rate AS DECIMAL(18,10)) AS rate
  FROM fx_rates WHERE upper(currency) <> 'EUR'
), grid AS (
  SELECT c.currency, ps.p
  FROM (SELECT DISTINCT currency FROM given) AS c CROSS JOIN (VALUES (24287), (24288), (24289), (24290), (24291), (24292), (24293), (24294), (24295), (24296), (24297), (24298), (24299), (24300), (24301), (24302), (24303), (24304), (24305), (24306), (24307), (24308), (24309), (24310), (24311), (24312), (24313), (24314), (24315), (24316), (24317), (24318), (24319), (24320), (24321)) AS ps(p)
), nearest AS (
  SELECT g.currency, g.p,
         coalesce(max(CASE WHEN r.p <= g.p THEN r.p END), min(r.p)) AS source_p
  FROM grid g JOIN given r ON r.currency = g.currency
  GROUP BY g.currency, g.p
)
SELECT n.currency, n.p, r.rate
FROM nearest n JOIN given r ON r.currency = n.currency AND r.p = n.source_p
UNION ALL
SELECT 'EUR' AS currency, p, CAST(1 AS DECIMAL(18,10)) AS rate FROM (VALUES (24287), (24288), (24289), (24290), (24291), (24292), (24293), (24294), (24295), (24296), (24297), (24298), (24299), (24300), (24301), (24302), (24303), (24304), (24305), (24306), (24307), (24308), (24309), (24310), (24311), (24312), (24313), (24314), (24315), (24316), (24317), (24318), (24319), (24320), (24321)) AS ps(p)

-- customer_keys
SELECT customer_id, min(upper(currency)) AS currency, min(upper(currency)) <> max(upper(currency)) AS mixed_currencies, CAST(row_number() OVER (ORDER BY customer_id) AS BIGINT) AS ck FROM revenue_lines GROUP BY customer_id

-- lines
WITH base AS (
  SELECT line_id, customer_id, upper(currency) AS currency, plan, kind, churn_reason,
         start_date, mrr_minor AS mrr,
         CASE WHEN (end_date) > DATE '2026-10-31' THEN NULL ELSE (end_date) END AS end_eff
  FROM revenue_lines
  WHERE start_date <= DATE '2026-10-31' AND (kind = 'recurring' OR (kind = 'discount' AND discount_duration IN ('repeating', 'forever')))
), ranged AS (
  SELECT line_id, customer_id, currency, plan, kind, churn_reason, mrr,
         (year(start_date) * 12 + month(start_date) - 1) AS p_from, coalesce((year(end_eff) * 12 + month(end_eff) - 1), 24322) AS p_to
  FROM base
)
SELECT l.line_id, k.ck, l.currency AS currency, l.plan, l.kind, l.churn_reason,
       mrr AS mrr, l.p_from, l.p_to
FROM ranged l JOIN customer_keys k ON k.customer_id = l.customer_id 
WHERE l.p_to > l.p_from

-- pieces
WITH deltas AS (
  SELECT ck, p_from AS p, mrr AS dv FROM lines
  UNION ALL SELECT ck, p_to AS p, -mrr AS dv FROM lines
  UNION ALL SELECT ck, 24322 AS p, 0 AS dv FROM customer_keys
), running AS (
  -- Several deltas on one boundary make empty pieces [p, p) that are dropped; the last of them
  -- carries the running total of all of them.
  SELECT ck, p AS p_from, lead(p) OVER w AS p_to,
         sum(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total
  FROM deltas
  WINDOW w AS (PARTITION BY ck ORDER BY p)
)
SELECT ck, p_from, p_to, CAST(greatest(total, 0) AS BIGINT) AS mrr_native
FROM running WHERE p_to > p_from

-- stretches
WITH firsts AS (
  SELECT ck, min(p_from) AS first_paid FROM pieces WHERE mrr_native > 0 GROUP BY ck
), ordered AS (
  -- Pieces are contiguous, so the one before [p_from, p_to) is the one ending at p_from; a hash
  -- join finds it faster than a window over a million small partitions.
  SELECT p.ck, p.p_from, p.p_to, p.mrr_native,
         coalesce(q.mrr_native, 0) AS prev_native, f.first_paid
  FROM pieces p
  LEFT JOIN pieces q ON q.ck = p.ck AND q.p_to = p.p_from
  LEFT JOIN firsts f ON f.ck = p.ck
), valued AS (
  SELECT o.ck, o.p_from, o.p_to, c.currency, o.mrr_native, o.prev_native, o.first_paid,
         CASE WHEN o.first_paid < o.p_from THEN 1 ELSE 0 END AS ever_before,
         CASE WHEN c.currency = 'EUR' THEN o.mrr_native ELSE CAST(round(o.mrr_native * r.rate) AS BIGINT) END AS v_now,
         CASE WHEN c.currency = 'EUR' THEN o.prev_native ELSE CAST(round(o.prev_native * r.rate) AS BIGINT) END AS v_prev
  FROM ordered o
  JOIN customer_keys c ON c.ck = o.ck
  JOIN rates r ON r.currency = c.currency AND r.p = 24321
)
SELECT ck, p_from, p_to, currency, mrr_native, prev_native, first_paid,
       ever_before, CASE WHEN v_now < 10000 THEN 0 WHEN v_now < 50000 THEN 1 WHEN v_now < 200000 THEN 2 ELSE 3 END AS band,
       CASE WHEN v_prev < 10000 THEN 0 WHEN v_prev < 50000 THEN 1 WHEN v_prev < 200000 THEN 2 ELSE 3 END AS prev_band
FROM valued

-- movements
WITH starts AS (
  SELECT s.ck, s.p_from AS p, s.prev_native, s.mrr_native, s.ever_before,
         CASE WHEN s.currency = 'EUR' THEN s.prev_native ELSE CAST(round(s.prev_native * r.rate) AS BIGINT) END AS a,
         CASE WHEN s.currency = 'EUR' THEN s.mrr_native ELSE CAST(round(s.mrr_native * r.rate) AS BIGINT) END AS c
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.p_from - 1
  WHERE s.p_from >= 24288 AND s.mrr_native <> s.prev_native
), classified AS (
  SELECT ck, p, a, c,
         CASE WHEN prev_native = 0 AND ever_before = 1 THEN 'reactivation'
              WHEN prev_native = 0 THEN 'new'
              WHEN mrr_native = 0 THEN 'churn'
              WHEN c > a THEN 'expansion'
              WHEN c < a THEN 'contraction' END AS movement
  FROM starts
), reasons AS (
  SELECT ck, p_to AS p, min(churn_reason) AS churn_reason
  FROM lines WHERE churn_reason IS NOT NULL GROUP BY ck, p_to
)
SELECT m.ck, m.p, m.movement, CAST(abs(m.c - m.a) AS BIGINT) AS amount,
       m.a AS mrr_before, m.c AS mrr_after,
       CASE WHEN m.movement = 'churn' THEN coalesce(r.churn_reason, 'voluntary') END AS churn_reason
FROM classified m
LEFT JOIN reasons r ON r.ck = m.ck AND r.p = m.p
WHERE m.movement IS NOT NULL

-- cohorts
WITH contrib AS (
  SELECT s.first_paid AS cohort, s.p_from - s.first_paid AS age, CASE WHEN s.currency = 'EUR' THEN s.mrr_native ELSE CAST(round(s.mrr_native * r.rate) AS BIGINT) END AS v, 1 AS n
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.first_paid
  WHERE s.mrr_native > 0
  UNION ALL
  SELECT s.first_paid AS cohort, s.p_to - s.first_paid AS age, -CASE WHEN s.currency = 'EUR' THEN s.mrr_native ELSE CAST(round(s.mrr_native * r.rate) AS BIGINT) END AS v, -1 AS n
  FROM stretches s JOIN rates r ON r.currency = s.currency AND r.p = s.first_paid
  WHERE s.mrr_native > 0
), deltas AS (
  SELECT cohort, age, sum(v) AS dv, sum(n) AS dn FROM contrib GROUP BY cohort, age
), grid AS (
  SELECT c.cohort, ps.p - c.cohort AS age
  FROM (SELECT DISTINCT first_paid AS cohort FROM stretches WHERE first_paid IS NOT NULL) AS c
  JOIN periods ps ON ps.p >= c.cohort
), running AS (
  SELECT g.cohort, g.age,
         sum(coalesce(d.dv, 0)) OVER w AS mrr, sum(coalesce(d.dn, 0)) OVER w AS customers
  FROM grid g LEFT JOIN deltas d ON d.cohort = g.cohort AND d.age = g.age
  WINDOW w AS (PARTITION BY g.cohort ORDER BY g.age
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT cohort, age, CAST(customers AS BIGINT) AS customers, CAST(mrr AS BIGINT) AS mrr,
       CAST(first_value(customers) OVER c AS BIGINT) AS customers_start,
       CAST(first_value(mrr) OVER c AS BIGINT) AS mrr_start
FROM running
WINDOW c AS (PARTITION BY cohort ORDER BY age ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)

-- fx_movements (view)
SELECT ck, p, 'fx' AS movement, CAST(c - a AS BIGINT) AS amount, a AS mrr_before,
       c AS mrr_after, CAST(NULL AS VARCHAR) AS churn_reason
FROM (
  SELECT s.ck, ps.p, CAST(round(s.mrr_native * r0.rate) AS BIGINT) AS a,
         CAST(round(s.mrr_native * r1.rate) AS BIGINT) AS c
  FROM stretches s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to AND ps.p >= 24288
  JOIN rates r0 ON r0.currency = s.currency AND r0.p = ps.p - 1
  JOIN rates r1 ON r1.currency = s.currency AND r1.p = ps.p
  WHERE s.currency <> 'EUR' AND s.mrr_native > 0
) AS x
WHERE c <> a

-- named_movements (view)
SELECT k.customer_id, m.* FROM (SELECT * FROM movements UNION ALL SELECT * FROM fx_movements) AS m JOIN customer_keys k ON k.ck = m.ck

-- plans
WITH plan_rank AS (
  SELECT plan, row_number() OVER (ORDER BY plan) AS plan_rank
  FROM (SELECT DISTINCT plan FROM lines WHERE plan IS NOT NULL AND kind <> 'discount') AS d
), ranked AS (
  SELECT l.ck, l.plan, l.mrr, l.p_from, l.p_to, r.plan_rank
  FROM lines l JOIN plan_rank r ON r.plan = l.plan
  WHERE l.kind <> 'discount'
), planned AS (
  SELECT s.ck, s.p_from, s.p_to,
         arg_max(l.plan, l.mrr * 1000000 - l.plan_rank) AS plan
  FROM stretches s
  JOIN ranked l ON l.ck = s.ck AND l.p_from <= s.p_from AND s.p_from < l.p_to
  GROUP BY s.ck, s.p_from, s.p_to
)
SELECT s.ck, s.p_from, p.plan, q.plan AS prev_plan
FROM stretches s
LEFT JOIN planned p ON p.ck = s.ck AND p.p_from = s.p_from
LEFT JOIN planned q ON q.ck = s.ck AND q.p_to = s.p_from

-- named_stretches (view)
SELECT k.customer_id, s.*, p.plan FROM stretches s JOIN customer_keys k ON k.ck = s.ck LEFT JOIN plans p ON p.ck = s.ck AND p.p_from = s.p_from

-- seg_all (view)
SELECT b.*, 'all' AS seg, 'all' AS prev_seg FROM stretches b

-- levels_all
WITH pieces_lv AS (SELECT seg, currency, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM seg_all WHERE mrr_native > 0),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 AS mrr, 1 AS customers FROM pieces_lv WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0) AS mrr, -(1) AS customers FROM pieces_lv WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(mrr) AS mrr, sum(customers) AS customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_lv
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT))) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- fx_all
WITH pieces_fx AS (
SELECT CASE WHEN prev_native > 0 THEN prev_seg ELSE seg END AS seg, currency,
       mrr_native AS n0, 0 AS n1, p_from AS t_from, p_from + 1 AS t_to
FROM seg_all WHERE mrr_native > 0 AND currency <> 'EUR' AND p_from >= 24288
UNION ALL
SELECT seg, currency, mrr_native AS n0, 0 AS n1, greatest(p_from + 1, 24288) AS t_from,
       p_to AS t_to
FROM seg_all
WHERE mrr_native > 0 AND currency <> 'EUR' AND p_to > greatest(p_from + 1, 24288)),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 - n0 AS fx FROM pieces_fx WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0 - n0) AS fx FROM pieces_fx WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(fx) AS fx FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_fx
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n0 * rp.rate) AS BIGINT))) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- bridge_all
WITH attributed AS (
  SELECT CASE WHEN s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_all s ON s.ck = m.ck AND s.p_from = m.p
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
), segs AS (
  SELECT seg FROM levels_all GROUP BY seg HAVING max(customers) > 0
  UNION SELECT seg FROM sums
)
SELECT g.seg AS segment, ps.p, ps.period_end,
       CAST(coalesce(l0.mrr, 0) AS BIGINT) AS start_mrr,
       CAST(coalesce(x.new, 0) AS BIGINT) AS new,
       CAST(coalesce(x.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(x.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(x.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(x.churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(f.fx, 0) AS BIGINT) AS fx,
       CAST(coalesce(l0.mrr, 0) + coalesce(x.new, 0) + coalesce(x.reactivation, 0)
            + coalesce(x.expansion, 0) - coalesce(x.contraction, 0) - coalesce(x.churn, 0)
            + coalesce(f.fx, 0) AS BIGINT) AS end_mrr,
       CAST(coalesce(l0.customers, 0) AS BIGINT) AS customers_start,
       CAST(coalesce(l0.customers, 0) + coalesce(x.new_customers, 0)
            + coalesce(x.reactivated_customers, 0) - coalesce(x.churned_customers, 0)
            AS BIGINT) AS customers_end,
       CAST(coalesce(x.new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(x.reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM (SELECT DISTINCT seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_all l0 ON l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN sums x ON x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_all f ON f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_all_1
SELECT segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_all
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_all_12
WITH pieces_wc AS (
SELECT s0.seg, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1,
       greatest(s0.p_from, s1.p_from - 12, 24288) AS t_from,
       least(s0.p_to, s1.p_to - 12, 24310) AS t_to
FROM seg_all s0
JOIN seg_all s1 ON s1.ck = s0.ck AND s1.p_from > s0.p_from
     AND s1.p_from - 12 < s0.p_to
WHERE s0.mrr_native > 0 AND s1.mrr_native <> s0.mrr_native
  AND greatest(s0.p_from, s1.p_from - 12, 24288)
      < least(s0.p_to, s1.p_to - 12, 24310)),
home_deltas AS (
  SELECT seg, t_from + 12 AS p, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 12 AS p, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(expansion) AS expansion, sum(contraction) AS contraction, sum(churn) AS churn, sum(churned_customers) AS churned_customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_wc
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) > CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n1 * r.rate) AS BIGINT) - CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) < CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n1 * r.rate) AS BIGINT) ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 12
)
SELECT h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- retention_all_12
SELECT l0.seg AS segment, l0.p + 12 AS p, ps.period_end, 12 AS window_periods,
       l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_all l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_all_12 c ON c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0

-- seg_plan
SELECT b.*, coalesce(pl.plan, '(none)') AS seg, coalesce(pl.prev_plan, '(none)') AS prev_seg FROM stretches b LEFT JOIN plans pl ON pl.ck = b.ck AND pl.p_from = b.p_from

-- levels_plan
WITH pieces_lv AS (SELECT seg, currency, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM seg_plan WHERE mrr_native > 0),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 AS mrr, 1 AS customers FROM pieces_lv WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0) AS mrr, -(1) AS customers FROM pieces_lv WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(mrr) AS mrr, sum(customers) AS customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_lv
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT))) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- fx_plan
WITH pieces_fx AS (
SELECT CASE WHEN prev_native > 0 THEN prev_seg ELSE seg END AS seg, currency,
       mrr_native AS n0, 0 AS n1, p_from AS t_from, p_from + 1 AS t_to
FROM seg_plan WHERE mrr_native > 0 AND currency <> 'EUR' AND p_from >= 24288
UNION ALL
SELECT seg, currency, mrr_native AS n0, 0 AS n1, greatest(p_from + 1, 24288) AS t_from,
       p_to AS t_to
FROM seg_plan
WHERE mrr_native > 0 AND currency <> 'EUR' AND p_to > greatest(p_from + 1, 24288)),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 - n0 AS fx FROM pieces_fx WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0 - n0) AS fx FROM pieces_fx WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(fx) AS fx FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_fx
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n0 * rp.rate) AS BIGINT))) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- bridge_plan
WITH attributed AS (
  SELECT CASE WHEN s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_plan s ON s.ck = m.ck AND s.p_from = m.p
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
), segs AS (
  SELECT seg FROM levels_plan GROUP BY seg HAVING max(customers) > 0
  UNION SELECT seg FROM sums
)
SELECT g.seg AS segment, ps.p, ps.period_end,
       CAST(coalesce(l0.mrr, 0) AS BIGINT) AS start_mrr,
       CAST(coalesce(x.new, 0) AS BIGINT) AS new,
       CAST(coalesce(x.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(x.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(x.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(x.churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(f.fx, 0) AS BIGINT) AS fx,
       CAST(coalesce(l0.mrr, 0) + coalesce(x.new, 0) + coalesce(x.reactivation, 0)
            + coalesce(x.expansion, 0) - coalesce(x.contraction, 0) - coalesce(x.churn, 0)
            + coalesce(f.fx, 0) AS BIGINT) AS end_mrr,
       CAST(coalesce(l0.customers, 0) AS BIGINT) AS customers_start,
       CAST(coalesce(l0.customers, 0) + coalesce(x.new_customers, 0)
            + coalesce(x.reactivated_customers, 0) - coalesce(x.churned_customers, 0)
            AS BIGINT) AS customers_end,
       CAST(coalesce(x.new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(x.reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM (SELECT DISTINCT seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_plan l0 ON l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN sums x ON x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_plan f ON f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_plan_1
SELECT segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_plan
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_plan_12
WITH pieces_wc AS (
SELECT s0.seg, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1,
       greatest(s0.p_from, s1.p_from - 12, 24288) AS t_from,
       least(s0.p_to, s1.p_to - 12, 24310) AS t_to
FROM seg_plan s0
JOIN seg_plan s1 ON s1.ck = s0.ck AND s1.p_from > s0.p_from
     AND s1.p_from - 12 < s0.p_to
WHERE s0.mrr_native > 0 AND s1.mrr_native <> s0.mrr_native
  AND greatest(s0.p_from, s1.p_from - 12, 24288)
      < least(s0.p_to, s1.p_to - 12, 24310)),
home_deltas AS (
  SELECT seg, t_from + 12 AS p, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 12 AS p, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(expansion) AS expansion, sum(contraction) AS contraction, sum(churn) AS churn, sum(churned_customers) AS churned_customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_wc
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) > CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n1 * r.rate) AS BIGINT) - CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) < CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n1 * r.rate) AS BIGINT) ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 12
)
SELECT h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- retention_plan_12
SELECT l0.seg AS segment, l0.p + 12 AS p, ps.period_end, 12 AS window_periods,
       l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_plan l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_plan_12 c ON c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0

-- seg_size
SELECT b.*, CASE WHEN b.band = 0 THEN '< 100' WHEN b.band = 1 THEN '100–500' WHEN b.band = 2 THEN '500–2,000' WHEN b.band = 3 THEN '≥ 2,000' END AS seg, CASE WHEN b.prev_band = 0 THEN '< 100' WHEN b.prev_band = 1 THEN '100–500' WHEN b.prev_band = 2 THEN '500–2,000' WHEN b.prev_band = 3 THEN '≥ 2,000' END AS prev_seg FROM stretches b

-- levels_size
WITH pieces_lv AS (SELECT seg, currency, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM seg_size WHERE mrr_native > 0),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 AS mrr, 1 AS customers FROM pieces_lv WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0) AS mrr, -(1) AS customers FROM pieces_lv WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(mrr) AS mrr, sum(customers) AS customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_lv
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT))) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- fx_size
WITH pieces_fx AS (
SELECT CASE WHEN prev_native > 0 THEN prev_seg ELSE seg END AS seg, currency,
       mrr_native AS n0, 0 AS n1, p_from AS t_from, p_from + 1 AS t_to
FROM seg_size WHERE mrr_native > 0 AND currency <> 'EUR' AND p_from >= 24288
UNION ALL
SELECT seg, currency, mrr_native AS n0, 0 AS n1, greatest(p_from + 1, 24288) AS t_from,
       p_to AS t_to
FROM seg_size
WHERE mrr_native > 0 AND currency <> 'EUR' AND p_to > greatest(p_from + 1, 24288)),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 - n0 AS fx FROM pieces_fx WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0 - n0) AS fx FROM pieces_fx WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(fx) AS fx FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_fx
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n0 * rp.rate) AS BIGINT))) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- bridge_size
WITH attributed AS (
  SELECT CASE WHEN s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_size s ON s.ck = m.ck AND s.p_from = m.p
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
), segs AS (
  SELECT seg FROM levels_size GROUP BY seg HAVING max(customers) > 0
  UNION SELECT seg FROM sums
)
SELECT g.seg AS segment, ps.p, ps.period_end,
       CAST(coalesce(l0.mrr, 0) AS BIGINT) AS start_mrr,
       CAST(coalesce(x.new, 0) AS BIGINT) AS new,
       CAST(coalesce(x.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(x.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(x.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(x.churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(f.fx, 0) AS BIGINT) AS fx,
       CAST(coalesce(l0.mrr, 0) + coalesce(x.new, 0) + coalesce(x.reactivation, 0)
            + coalesce(x.expansion, 0) - coalesce(x.contraction, 0) - coalesce(x.churn, 0)
            + coalesce(f.fx, 0) AS BIGINT) AS end_mrr,
       CAST(coalesce(l0.customers, 0) AS BIGINT) AS customers_start,
       CAST(coalesce(l0.customers, 0) + coalesce(x.new_customers, 0)
            + coalesce(x.reactivated_customers, 0) - coalesce(x.churned_customers, 0)
            AS BIGINT) AS customers_end,
       CAST(coalesce(x.new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(x.reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM (SELECT DISTINCT seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_size l0 ON l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN sums x ON x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_size f ON f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_size_1
SELECT segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_size
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_size_12
WITH pieces_wc AS (
SELECT s0.seg, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1,
       greatest(s0.p_from, s1.p_from - 12, 24288) AS t_from,
       least(s0.p_to, s1.p_to - 12, 24310) AS t_to
FROM seg_size s0
JOIN seg_size s1 ON s1.ck = s0.ck AND s1.p_from > s0.p_from
     AND s1.p_from - 12 < s0.p_to
WHERE s0.mrr_native > 0 AND s1.mrr_native <> s0.mrr_native
  AND greatest(s0.p_from, s1.p_from - 12, 24288)
      < least(s0.p_to, s1.p_to - 12, 24310)),
home_deltas AS (
  SELECT seg, t_from + 12 AS p, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 12 AS p, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(expansion) AS expansion, sum(contraction) AS contraction, sum(churn) AS churn, sum(churned_customers) AS churned_customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_wc
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) > CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n1 * r.rate) AS BIGINT) - CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) < CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n1 * r.rate) AS BIGINT) ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 12
)
SELECT h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- retention_size_12
SELECT l0.seg AS segment, l0.p + 12 AS p, ps.period_end, 12 AS window_periods,
       l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_size l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_size_12 c ON c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0

-- seg_country
SELECT b.*, coalesce(a.value, '(unknown)') AS seg, coalesce(a.value, '(unknown)') AS prev_seg FROM stretches b LEFT JOIN (SELECT k.ck, max(a.value) AS value FROM customer_attributes a JOIN customer_keys k ON k.customer_id = a.customer_id WHERE a.key = 'country' GROUP BY k.ck) AS a ON a.ck = b.ck

-- levels_country
WITH pieces_lv AS (SELECT seg, currency, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM seg_country WHERE mrr_native > 0),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 AS mrr, 1 AS customers FROM pieces_lv WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0) AS mrr, -(1) AS customers FROM pieces_lv WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(mrr) AS mrr, sum(customers) AS customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_lv
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_lv WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT))) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- fx_country
WITH pieces_fx AS (
SELECT CASE WHEN prev_native > 0 THEN prev_seg ELSE seg END AS seg, currency,
       mrr_native AS n0, 0 AS n1, p_from AS t_from, p_from + 1 AS t_to
FROM seg_country WHERE mrr_native > 0 AND currency <> 'EUR' AND p_from >= 24288
UNION ALL
SELECT seg, currency, mrr_native AS n0, 0 AS n1, greatest(p_from + 1, 24288) AS t_from,
       p_to AS t_to
FROM seg_country
WHERE mrr_native > 0 AND currency <> 'EUR' AND p_to > greatest(p_from + 1, 24288)),
home_deltas AS (
  SELECT seg, t_from + 0 AS p, n0 - n0 AS fx FROM pieces_fx WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 0 AS p, -(n0 - n0) AS fx FROM pieces_fx WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(fx) AS fx FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_fx
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_fx WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 0 AS p, sum(f.cnt * (CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n0 * rp.rate) AS BIGINT))) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 0
)
SELECT h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- bridge_country
WITH attributed AS (
  SELECT CASE WHEN s.prev_native > 0 THEN s.prev_seg ELSE s.seg END AS seg,
         m.p, m.movement, m.amount
  FROM movements m
  JOIN seg_country s ON s.ck = m.ck AND s.p_from = m.p
), sums AS (
  SELECT seg, p,
    sum(CASE WHEN movement = 'new' THEN amount ELSE 0 END) AS new,
    sum(CASE WHEN movement = 'reactivation' THEN amount ELSE 0 END) AS reactivation,
    sum(CASE WHEN movement = 'expansion' THEN amount ELSE 0 END) AS expansion,
    sum(CASE WHEN movement = 'contraction' THEN amount ELSE 0 END) AS contraction,
    sum(CASE WHEN movement = 'churn' THEN amount ELSE 0 END) AS churn,
    sum(CASE WHEN movement = 'new' THEN 1 ELSE 0 END) AS new_customers,
    sum(CASE WHEN movement = 'reactivation' THEN 1 ELSE 0 END) AS reactivated_customers,
    sum(CASE WHEN movement = 'churn' THEN 1 ELSE 0 END) AS churned_customers
  FROM attributed GROUP BY seg, p
), segs AS (
  SELECT seg FROM levels_country GROUP BY seg HAVING max(customers) > 0
  UNION SELECT seg FROM sums
)
SELECT g.seg AS segment, ps.p, ps.period_end,
       CAST(coalesce(l0.mrr, 0) AS BIGINT) AS start_mrr,
       CAST(coalesce(x.new, 0) AS BIGINT) AS new,
       CAST(coalesce(x.reactivation, 0) AS BIGINT) AS reactivation,
       CAST(coalesce(x.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(x.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(x.churn, 0) AS BIGINT) AS churn,
       CAST(coalesce(f.fx, 0) AS BIGINT) AS fx,
       CAST(coalesce(l0.mrr, 0) + coalesce(x.new, 0) + coalesce(x.reactivation, 0)
            + coalesce(x.expansion, 0) - coalesce(x.contraction, 0) - coalesce(x.churn, 0)
            + coalesce(f.fx, 0) AS BIGINT) AS end_mrr,
       CAST(coalesce(l0.customers, 0) AS BIGINT) AS customers_start,
       CAST(coalesce(l0.customers, 0) + coalesce(x.new_customers, 0)
            + coalesce(x.reactivated_customers, 0) - coalesce(x.churned_customers, 0)
            AS BIGINT) AS customers_end,
       CAST(coalesce(x.new_customers, 0) AS BIGINT) AS new_customers,
       CAST(coalesce(x.reactivated_customers, 0) AS BIGINT) AS reactivated_customers,
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM (SELECT DISTINCT seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_country l0 ON l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN sums x ON x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_country f ON f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_country_1
SELECT segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_country
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_country_12
WITH pieces_wc AS (
SELECT s0.seg, s0.currency, s0.mrr_native AS n0, s1.mrr_native AS n1,
       greatest(s0.p_from, s1.p_from - 12, 24288) AS t_from,
       least(s0.p_to, s1.p_to - 12, 24310) AS t_to
FROM seg_country s0
JOIN seg_country s1 ON s1.ck = s0.ck AND s1.p_from > s0.p_from
     AND s1.p_from - 12 < s0.p_to
WHERE s0.mrr_native > 0 AND s1.mrr_native <> s0.mrr_native
  AND greatest(s0.p_from, s1.p_from - 12, 24288)
      < least(s0.p_to, s1.p_to - 12, 24310)),
home_deltas AS (
  SELECT seg, t_from + 12 AS p, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
  UNION ALL
  SELECT seg, t_to + 12 AS p, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers FROM pieces_wc WHERE currency = 'EUR'
), home_summed AS (
  SELECT seg, p, sum(expansion) AS expansion, sum(contraction) AS contraction, sum(churn) AS churn, sum(churned_customers) AS churned_customers FROM home_deltas GROUP BY seg, p
), segs AS (
  SELECT DISTINCT seg FROM pieces_wc
), grid AS (
  SELECT segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.seg = g.seg AND d.p = g.p
), fdeltas AS (
  SELECT seg, currency, n0, n1, t_from AS t, 1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
  UNION ALL
  SELECT seg, currency, n0, n1, t_to AS t, -1 AS dc FROM pieces_wc WHERE currency <> 'EUR'
), fcounts AS (
  SELECT seg, currency, n0, n1, t, sum(dc) AS dc FROM fdeltas GROUP BY seg, currency, n0, n1, t
), fintervals AS (
  SELECT seg, currency, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM fcounts
  WINDOW w AS (PARTITION BY seg, currency, n0, n1 ORDER BY t)
), fsums AS (
  SELECT f.seg, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) > CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n1 * r.rate) AS BIGINT) - CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CAST(round(n1 * r.rate) AS BIGINT) < CAST(round(n0 * r.rate) AS BIGINT) THEN CAST(round(n0 * r.rate) AS BIGINT) - CAST(round(n1 * r.rate) AS BIGINT) ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CAST(round(n0 * r.rate) AS BIGINT) ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.currency = f.currency AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.currency = f.currency AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg, ps.p + 12
)
SELECT h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.seg = h.seg AND x.p = h.p

-- retention_country_12
SELECT l0.seg AS segment, l0.p + 12 AS p, ps.period_end, 12 AS window_periods,
       l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_country l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_country_12 c ON c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0
