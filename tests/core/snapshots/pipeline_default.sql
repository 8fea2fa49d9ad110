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
SELECT n.currency, CAST(hash(n.currency) >> 1 AS BIGINT) AS cur, n.p, r.rate,
       CAST(r.rate AS DOUBLE) AS rate_f
FROM nearest n JOIN given r ON r.currency = n.currency AND r.p = n.source_p
UNION ALL
SELECT 'EUR' AS currency, CAST(hash('EUR') >> 1 AS BIGINT) AS cur, p, CAST(1 AS DECIMAL(18,10)) AS rate,
       CAST(1 AS DOUBLE) AS rate_f
FROM (VALUES (24287), (24288), (24289), (24290), (24291), (24292), (24293), (24294), (24295), (24296), (24297), (24298), (24299), (24300), (24301), (24302), (24303), (24304), (24305), (24306), (24307), (24308), (24309), (24310), (24311), (24312), (24313), (24314), (24315), (24316), (24317), (24318), (24319), (24320), (24321)) AS ps(p)

-- customer_keys
SELECT customer_id, min(upper(currency)) AS currency, min(upper(currency)) <> max(upper(currency)) AS mixed_currencies, CASE WHEN min(CASE WHEN plan IS NOT NULL THEN CAST(hash(plan) >> 1 AS BIGINT) END) FILTER (WHERE kind <> 'discount') = max(CASE WHEN plan IS NOT NULL THEN CAST(hash(plan) >> 1 AS BIGINT) END) FILTER (WHERE kind <> 'discount') THEN min(CASE WHEN plan IS NOT NULL THEN CAST(hash(plan) >> 1 AS BIGINT) END) FILTER (WHERE kind <> 'discount') END AS plan_code, min(CASE WHEN plan IS NOT NULL THEN CAST(hash(plan) >> 1 AS BIGINT) END) FILTER (WHERE kind <> 'discount') <> max(CASE WHEN plan IS NOT NULL THEN CAST(hash(plan) >> 1 AS BIGINT) END) FILTER (WHERE kind <> 'discount') AS multi_plan, CAST(hash(customer_id) >> 1 AS BIGINT) AS ck FROM revenue_lines GROUP BY customer_id

-- lines
WITH base AS (
  SELECT customer_id, upper(currency) AS currency, plan, kind = 'discount' AS discount,
         churn_reason AS churn_reason, start_date, mrr_minor AS mrr,
         CASE WHEN (end_date) > DATE '2026-10-31' THEN NULL ELSE (end_date) END AS end_eff
  FROM revenue_lines
  WHERE start_date <= DATE '2026-10-31' AND (kind = 'recurring' OR (kind = 'discount' AND discount_duration IN ('repeating', 'forever')))
), ranged AS (
  SELECT customer_id, currency, plan, discount, churn_reason, mrr,
         (year(start_date) * 12 + month(start_date) - 1) AS p_from, coalesce((year(end_eff) * 12 + month(end_eff) - 1), 10000000) AS p_to
  FROM base
)
SELECT CAST(hash(l.customer_id) >> 1 AS BIGINT) AS ck, CAST(hash(l.currency) >> 1 AS BIGINT) AS cur, CASE WHEN l.plan IS NOT NULL THEN CAST(hash(l.plan) >> 1 AS BIGINT) END AS plan_code, l.discount,
       coalesce(l.churn_reason = 'involuntary', false) AS involuntary, mrr AS mrr, l.p_from,
       l.p_to
FROM ranged l 
WHERE l.p_to > l.p_from

-- pieces
WITH deltas AS (
  SELECT ck, cur, p, sum(dv) AS dv, max(inv) AS inv, sum(dp) AS dp FROM (
    SELECT ck, cur, p_from AS p, mrr AS dv, 0 AS inv, CASE WHEN plan_code IS NOT NULL AND NOT discount THEN 1 ELSE 0 END AS dp FROM lines
    UNION ALL
    SELECT ck, cur, p_to AS p, -mrr AS dv,
           CASE WHEN involuntary THEN 1 ELSE 0 END AS inv, -CASE WHEN plan_code IS NOT NULL AND NOT discount THEN 1 ELSE 0 END AS dp
    FROM lines WHERE p_to < 10000000
  ) AS d
  GROUP BY ck, cur, p  -- one currency per customer: the same groups as (ck, p)
), running AS (
  SELECT ck, cur, p AS p_from, lead(p, 1, 10000000) OVER w AS p_to, dv, inv, dp,
         sum(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS total,
         sum(dp) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS plan_lines,
         first_value(p) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS p_first,
         first_value(dv) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS dv_first
  FROM deltas
  WINDOW w AS (PARTITION BY ck ORDER BY p)
)
SELECT ck, cur, p_from, p_to, CAST(greatest(total, 0) AS BIGINT) AS mrr_native,
       CAST(greatest(total - dv, 0) AS BIGINT) AS prev_native, inv = 1 AS involuntary_end,
       plan_lines > 0 AS on_plan, plan_lines - dp > 0 AS prev_on_plan,
       CASE WHEN dv_first > 0 THEN p_first END AS first_paid
FROM running

-- stretches
WITH late AS (
  SELECT ck, min(p_from) AS first_paid FROM pieces
  WHERE first_paid IS NULL AND mrr_native > 0
  GROUP BY ck
), firsts AS (
  SELECT f.ck, f.cur, f.p_from, f.p_to, f.mrr_native, f.prev_native, f.involuntary_end,
         f.on_plan, f.prev_on_plan, coalesce(f.first_paid, l.first_paid) AS first_paid
  FROM pieces f LEFT JOIN late l ON l.ck = f.ck
), valued AS (
  SELECT f.ck, f.p_from, f.p_to, f.cur, f.mrr_native, f.prev_native, f.first_paid,
         f.involuntary_end, f.on_plan, f.prev_on_plan,
         CASE WHEN f.first_paid < f.p_from THEN 1 ELSE 0 END AS ever_before,
         CASE WHEN f.cur = CAST(hash('EUR') >> 1 AS BIGINT) THEN f.mrr_native ELSE CASE WHEN abs((f.mrr_native * rb.rate_f)) < 1e9 AND abs((f.mrr_native * rb.rate_f) - floor((f.mrr_native * rb.rate_f)) - 0.5) > 1e-6 THEN CAST(round((f.mrr_native * rb.rate_f)) AS BIGINT) ELSE CAST(round(f.mrr_native * rb.rate) AS BIGINT) END END AS v_cohort,
         CASE WHEN f.cur = CAST(hash('EUR') >> 1 AS BIGINT) THEN f.prev_native ELSE CASE WHEN abs((f.prev_native * rb.rate_f)) < 1e9 AND abs((f.prev_native * rb.rate_f) - floor((f.prev_native * rb.rate_f)) - 0.5) > 1e-6 THEN CAST(round((f.prev_native * rb.rate_f)) AS BIGINT) ELSE CAST(round(f.prev_native * rb.rate) AS BIGINT) END END AS v_cohort_prev,
         CASE WHEN f.cur = CAST(hash('EUR') >> 1 AS BIGINT) THEN f.prev_native ELSE CASE WHEN abs((f.prev_native * rm.rate_f)) < 1e9 AND abs((f.prev_native * rm.rate_f) - floor((f.prev_native * rm.rate_f)) - 0.5) > 1e-6 THEN CAST(round((f.prev_native * rm.rate_f)) AS BIGINT) ELSE CAST(round(f.prev_native * rm.rate) AS BIGINT) END END AS a,
         CASE WHEN f.cur = CAST(hash('EUR') >> 1 AS BIGINT) THEN f.mrr_native ELSE CASE WHEN abs((f.mrr_native * rm.rate_f)) < 1e9 AND abs((f.mrr_native * rm.rate_f) - floor((f.mrr_native * rm.rate_f)) - 0.5) > 1e-6 THEN CAST(round((f.mrr_native * rm.rate_f)) AS BIGINT) ELSE CAST(round(f.mrr_native * rm.rate) AS BIGINT) END END AS c
  FROM firsts f
  JOIN rates rb ON rb.cur = f.cur AND rb.p = coalesce(f.first_paid, f.p_from)
  JOIN rates rm ON rm.cur = f.cur AND rm.p = f.p_from - 1
)
SELECT ck, p_from, p_to, cur, mrr_native, prev_native, first_paid, ever_before,
       CASE WHEN v_cohort < 10000 THEN 0 WHEN v_cohort < 50000 THEN 1 WHEN v_cohort < 200000 THEN 2 ELSE 3 END AS band,
       CASE WHEN v_cohort_prev < 10000 THEN 0 WHEN v_cohort_prev < 50000 THEN 1 WHEN v_cohort_prev < 200000 THEN 2 ELSE 3 END AS prev_band, v_cohort,
       CASE WHEN mrr_native = prev_native THEN NULL
            WHEN prev_native = 0 AND ever_before = 1 THEN 2
            WHEN prev_native = 0 THEN 1
            WHEN mrr_native = 0 THEN 5
            WHEN c > a THEN 3
            WHEN c < a THEN 4 END AS movement,
       CAST(abs(c - a) AS BIGINT) AS amount, a AS mrr_before, c AS mrr_after,
       mrr_native = 0 AND prev_native > 0 AND involuntary_end AS involuntary, on_plan,
       prev_on_plan
FROM valued

-- movements (view)
SELECT s.ck, s.p_from AS p, CASE s.movement WHEN 1 THEN 'new' WHEN 2 THEN 'reactivation' WHEN 3 THEN 'expansion' WHEN 4 THEN 'contraction' WHEN 5 THEN 'churn' END AS movement, s.amount, s.mrr_before,
       s.mrr_after,
       CASE WHEN s.involuntary THEN 'involuntary'
            WHEN s.movement = 5 THEN 'voluntary' END AS churn_reason
FROM stretches s
WHERE s.movement IS NOT NULL

-- fx_movements (view)
SELECT ck, p, 'fx' AS movement, CAST(c - a AS BIGINT) AS amount, a AS mrr_before,
       c AS mrr_after, CAST(NULL AS VARCHAR) AS churn_reason
FROM (
  SELECT s.ck, ps.p, CASE WHEN abs((s.mrr_native * r0.rate_f)) < 1e9 AND abs((s.mrr_native * r0.rate_f) - floor((s.mrr_native * r0.rate_f)) - 0.5) > 1e-6 THEN CAST(round((s.mrr_native * r0.rate_f)) AS BIGINT) ELSE CAST(round(s.mrr_native * r0.rate) AS BIGINT) END AS a,
         CASE WHEN abs((s.mrr_native * r1.rate_f)) < 1e9 AND abs((s.mrr_native * r1.rate_f) - floor((s.mrr_native * r1.rate_f)) - 0.5) > 1e-6 THEN CAST(round((s.mrr_native * r1.rate_f)) AS BIGINT) ELSE CAST(round(s.mrr_native * r1.rate) AS BIGINT) END AS c
  FROM stretches s
  JOIN periods ps ON ps.p >= s.p_from AND ps.p < s.p_to AND ps.p >= 24288
  JOIN rates r0 ON r0.cur = s.cur AND r0.p = ps.p - 1
  JOIN rates r1 ON r1.cur = s.cur AND r1.p = ps.p
  WHERE s.cur <> CAST(hash('EUR') >> 1 AS BIGINT) AND s.mrr_native > 0
) AS x
WHERE c <> a

-- named_movements (view)
SELECT k.customer_id, m.* FROM (SELECT * FROM movements UNION ALL SELECT * FROM fx_movements) AS m JOIN customer_keys k ON k.ck = m.ck

-- coh_c
SELECT cohort, age, CAST(sum(v) AS BIGINT) AS dv, CAST(sum(n) AS BIGINT) AS dn
FROM (
  SELECT first_paid AS cohort, p_from - first_paid AS age, v_cohort AS v, 1 AS n
  FROM stretches WHERE mrr_native > 0
  UNION ALL
  SELECT first_paid AS cohort, p_to - first_paid AS age, -v_cohort AS v, -1 AS n
  FROM stretches WHERE mrr_native > 0 AND p_to < 10000000
) AS x
GROUP BY cohort, age
HAVING sum(v) <> 0 OR sum(n) <> 0

-- cohorts
WITH grid AS (
  SELECT c.cohort, ps.p - c.cohort AS age
  FROM (SELECT DISTINCT cohort FROM coh_c WHERE cohort <= 24321) AS c
  JOIN periods ps ON ps.p >= c.cohort
), running AS (
  SELECT g.cohort, g.age,
         sum(coalesce(d.dv, 0)) OVER w AS mrr, sum(coalesce(d.dn, 0)) OVER w AS customers
  FROM grid g LEFT JOIN coh_c d ON d.cohort = g.cohort AND d.age = g.age
  WINDOW w AS (PARTITION BY g.cohort ORDER BY g.age
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT cohort, age, CAST(customers AS BIGINT) AS customers, CAST(mrr AS BIGINT) AS mrr,
       CAST(first_value(customers) OVER c AS BIGINT) AS customers_start,
       CAST(first_value(mrr) OVER c AS BIGINT) AS mrr_start
FROM running
WINDOW c AS (PARTITION BY cohort ORDER BY age ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)

-- plan_labels
SELECT 'plan' AS dim, CASE WHEN label IS NOT NULL THEN CAST(hash(label) >> 1 AS BIGINT) END AS code, label FROM (SELECT DISTINCT plan AS label FROM revenue_lines WHERE plan IS NOT NULL) AS d

-- plans
WITH plan_rank AS (
  SELECT code, row_number() OVER (ORDER BY label) AS plan_rank FROM plan_labels
), ranked AS (
  SELECT l.ck, l.mrr * 1000000 + 1000000 - r.plan_rank AS weight, l.p_from, l.p_to
  FROM lines l JOIN plan_rank r ON r.code = l.plan_code
  WHERE NOT l.discount AND l.ck IN (SELECT ck FROM customer_keys WHERE multi_plan)
), planned AS (
  SELECT s.ck, s.p_from,
         1000000 - (max(l.weight) FILTER (WHERE s.p_from < l.p_to) % 1000000 + 1000000) % 1000000 AS plan_rank,
         1000000 - (max(l.weight) FILTER (WHERE l.p_from < s.p_from) % 1000000 + 1000000) % 1000000 AS prev_rank
  FROM stretches s
  LEFT JOIN ranked l ON l.ck = s.ck AND l.p_from <= s.p_from AND s.p_from <= l.p_to
  WHERE s.ck IN (SELECT ck FROM customer_keys WHERE multi_plan)
  GROUP BY s.ck, s.p_from
)
SELECT s.ck, s.p_from, r.code AS plan_code, rq.code AS prev_plan_code
FROM planned s
LEFT JOIN plan_rank r ON r.plan_rank = s.plan_rank
LEFT JOIN plan_rank rq ON rq.plan_rank = s.prev_rank

-- named_stretches (view)
SELECT k.customer_id, k.currency, s.*, pn.label AS plan FROM stretches s JOIN customer_keys k ON k.ck = s.ck LEFT JOIN plans mp ON mp.ck = s.ck AND mp.p_from = s.p_from LEFT JOIN plan_labels pn ON pn.code = CASE WHEN k.multi_plan THEN mp.plan_code WHEN s.on_plan THEN k.plan_code END

-- segs_b0 (view)
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, 0 AS seg0, 0 AS prev_seg0 FROM stretches b

-- lvj_b0
WITH pieces AS (SELECT seg0, cur, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM segs_b0 WHERE mrr_native > 0),
deltas AS (
  SELECT seg0, cur, 0 AS n0, 0 AS n1, t_from AS t, 0 AS dc, n0 AS mrr, 1 AS customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, 0 AS n0, 0 AS n1, t_to AS t, 0 AS dc, -(n0) AS mrr, -(1) AS customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, n0, n1, t_from AS t, 1 AS dc, 0 AS mrr, 0 AS customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, n0, n1, t_to AS t, -1 AS dc, 0 AS mrr, 0 AS customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
)
SELECT seg0, cur, n0, n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers
FROM deltas GROUP BY seg0, cur, n0, n1, t
HAVING sum(dc) <> 0 OR sum(mrr) <> 0 OR sum(customers) <> 0

-- fxj_b0
WITH moved AS (
  SELECT * FROM segs_b0
  WHERE mrr_native > 0 AND cur <> CAST(hash('EUR') >> 1 AS BIGINT) AND prev_native > 0 AND (prev_seg0 IS DISTINCT FROM seg0)
), deltas AS (
  SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, cur, mrr_native AS n0, p_from AS t, 1 AS dc FROM moved
  UNION ALL SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, cur, mrr_native AS n0, p_from + 1 AS t, -1 AS dc FROM moved
  UNION ALL SELECT seg0, cur, mrr_native AS n0, p_from AS t, -1 AS dc FROM moved
  UNION ALL SELECT seg0, cur, mrr_native AS n0, p_from + 1 AS t, 1 AS dc FROM moved
)
SELECT seg0, cur, n0, 0 AS n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(0 AS BIGINT) AS fx
FROM deltas GROUP BY seg0, cur, n0, t
HAVING sum(dc) <> 0

-- mvj_b0
SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, p_from AS p, CAST(sum(CASE WHEN movement = 1 THEN amount ELSE 0 END) AS BIGINT) AS new, CAST(sum(CASE WHEN movement = 2 THEN amount ELSE 0 END) AS BIGINT) AS reactivation, CAST(sum(CASE WHEN movement = 3 THEN amount ELSE 0 END) AS BIGINT) AS expansion, CAST(sum(CASE WHEN movement = 4 THEN amount ELSE 0 END) AS BIGINT) AS contraction, CAST(sum(CASE WHEN movement = 5 THEN amount ELSE 0 END) AS BIGINT) AS churn, CAST(sum(CASE WHEN movement = 1 THEN 1 ELSE 0 END) AS BIGINT) AS new_customers, CAST(sum(CASE WHEN movement = 2 THEN 1 ELSE 0 END) AS BIGINT) AS reactivated_customers, CAST(sum(CASE WHEN movement = 5 THEN 1 ELSE 0 END) AS BIGINT) AS churned_customers, CAST(sum(CASE WHEN involuntary THEN amount ELSE 0 END) AS BIGINT) AS involuntary_churn
FROM segs_b0 WHERE movement IS NOT NULL
GROUP BY CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END, p_from
HAVING sum(CASE WHEN movement = 1 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 2 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 3 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 4 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 5 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 1 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 2 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 5 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN involuntary THEN amount ELSE 0 END) <> 0

-- wcj_12_b0
WITH pieces AS (
SELECT x0.seg0, x0.cur, x0.mrr_native AS n0, x1.mrr_native AS n1,
       greatest(x0.p_from, x1.p_from - 12, 24288) AS t_from,
       least(x0.p_to, x1.p_to - 12) AS t_to
FROM segs_b0 x0
JOIN segs_b0 x1 ON x1.ck = x0.ck AND x1.p_from > x0.p_from
     AND x1.p_from - 12 < x0.p_to
WHERE x0.mrr_native > 0 AND x0.p_to < 10000000 AND x1.mrr_native <> x0.mrr_native
  AND greatest(x0.p_from, x1.p_from - 12, 24288) < least(x0.p_to, x1.p_to - 12)),
deltas AS (
  SELECT seg0, cur, 0 AS n0, 0 AS n1, t_from AS t, 0 AS dc, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, 0 AS n0, 0 AS n1, t_to AS t, 0 AS dc, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, n0, n1, t_from AS t, 1 AS dc, 0 AS expansion, 0 AS contraction, 0 AS churn, 0 AS churned_customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, cur, n0, n1, t_to AS t, -1 AS dc, 0 AS expansion, 0 AS contraction, 0 AS churn, 0 AS churned_customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
)
SELECT seg0, cur, n0, n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers
FROM deltas GROUP BY seg0, cur, n0, n1, t
HAVING sum(dc) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0

-- lvc_b0 (view)
SELECT 'all' AS dim, 'all' AS seg, x.t, x.mrr, x.customers FROM (SELECT seg0 AS code, t, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM (SELECT * FROM lvj_b0 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x

-- fxc_b0 (view)
SELECT 'all' AS dim, 'all' AS seg, x.t, x.fx FROM (SELECT seg0 AS code, t, CAST(sum(fx) AS BIGINT) AS fx FROM (SELECT * FROM fxj_b0 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(fx) <> 0) AS x

-- mvc_b0 (view)
SELECT 'all' AS dim, 'all' AS seg, x.p, x.new, x.reactivation, x.expansion, x.contraction, x.churn, x.new_customers, x.reactivated_customers, x.churned_customers, x.involuntary_churn FROM (SELECT seg0 AS code, p, CAST(sum(new) AS BIGINT) AS new, CAST(sum(reactivation) AS BIGINT) AS reactivation, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(new_customers) AS BIGINT) AS new_customers, CAST(sum(reactivated_customers) AS BIGINT) AS reactivated_customers, CAST(sum(churned_customers) AS BIGINT) AS churned_customers, CAST(sum(involuntary_churn) AS BIGINT) AS involuntary_churn FROM mvj_b0 GROUP BY seg0, p HAVING sum(new) <> 0 OR sum(reactivation) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(new_customers) <> 0 OR sum(reactivated_customers) <> 0 OR sum(churned_customers) <> 0 OR sum(involuntary_churn) <> 0) AS x

-- wcc_12_b0 (view)
SELECT 'all' AS dim, 'all' AS seg, x.t, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg0 AS code, t, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM (SELECT * FROM wcj_12_b0 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x

-- seg_all (view)
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, 'all' AS seg, 'all' AS prev_seg FROM segs_b0 b

-- levels_b0
WITH fintervals AS (
  SELECT seg0, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM lvj_b0 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, ps.p + 0 AS p, sum(f.cnt * (CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END)) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, ps.p + 0
), fsums AS (
SELECT 'all' AS dim, 'all' AS seg, x.p, x.mrr, x.customers FROM (SELECT seg0 AS code, p, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM fjoint GROUP BY seg0, p HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x 
), home_summed AS (
  SELECT dim, seg, t + 0 AS p, mrr, customers FROM lvc_b0
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- fx_b0
WITH fintervals AS (
  SELECT seg0, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM (SELECT seg0, cur, n0, n1, t, dc FROM lvj_b0 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT) UNION ALL SELECT seg0, cur, n0, n1, t, dc FROM fxj_b0) AS j WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, ps.p + 0 AS p, sum(f.cnt * (CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END - CASE WHEN abs((n0 * rp.rate_f)) < 1e9 AND abs((n0 * rp.rate_f) - floor((n0 * rp.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * rp.rate_f)) AS BIGINT) ELSE CAST(round(n0 * rp.rate) AS BIGINT) END)) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, ps.p + 0
), fsums AS (
SELECT 'all' AS dim, 'all' AS seg, x.p, x.fx FROM (SELECT seg0 AS code, p, CAST(sum(fx) AS BIGINT) AS fx FROM fjoint GROUP BY seg0, p HAVING sum(fx) <> 0) AS x 
), home_summed AS (
  SELECT dim, seg, t + 0 AS p, fx FROM fxc_b0
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- bridge_b0
WITH segs AS (
  SELECT dim, seg FROM levels_b0 GROUP BY dim, seg HAVING max(customers) > 0
  UNION SELECT dim, seg FROM mvc_b0 WHERE p >= 24288 AND p <= 24321
  UNION SELECT 'all' AS dim, 'all' AS seg
)
SELECT g.dim, g.seg AS segment, ps.p, ps.period_end,
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
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers,
       CAST(coalesce(x.involuntary_churn, 0) AS BIGINT) AS involuntary_churn
FROM (SELECT DISTINCT dim, seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_b0 l0 ON l0.dim = g.dim AND l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN mvc_b0 x ON x.dim = g.dim AND x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_b0 f ON f.dim = g.dim AND f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_1_b0 (view)
SELECT dim, segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_b0
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_12_b0
WITH fintervals AS (
  SELECT seg0, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM wcj_12_b0 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END > CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END THEN CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END - CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END < CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END THEN CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END - CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, ps.p + 12
), fsums AS (
SELECT 'all' AS dim, 'all' AS seg, x.p, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg0 AS code, p, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM fjoint GROUP BY seg0, p HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x 
), home_summed AS (
  SELECT dim, seg, t + 12 AS p, expansion, contraction, churn, churned_customers FROM wcc_12_b0
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- retention_12_b0
SELECT l0.dim, l0.seg AS segment, l0.p + 12 AS p, ps.period_end,
       12 AS window_periods, l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_b0 l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_12_b0 c ON c.dim = l0.dim AND c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0

-- bridge_all (view)
SELECT segment, p, period_end, start_mrr, new, reactivation, expansion, contraction, churn, fx, end_mrr, customers_start, customers_end, new_customers, reactivated_customers, churned_customers, involuntary_churn FROM bridge_b0 WHERE dim = 'all'

-- retention_all_1 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_1_b0 WHERE dim = 'all'

-- retention_all_12 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_12_b0 WHERE dim = 'all'

-- segs_b1
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, CASE WHEN cp.multi_plan THEN mp.plan_code WHEN b.on_plan THEN cp.plan_code END AS seg0, CASE WHEN cp.multi_plan THEN mp.prev_plan_code WHEN b.prev_on_plan THEN cp.plan_code END AS prev_seg0, b.band AS seg1, b.prev_band AS prev_seg1, a2.code AS seg2, a2.code AS prev_seg2 FROM stretches b LEFT JOIN customer_keys cp ON cp.ck = b.ck LEFT JOIN plans mp ON mp.ck = b.ck AND mp.p_from = b.p_from LEFT JOIN (SELECT CAST(hash(a.customer_id) >> 1 AS BIGINT) AS ck, CASE WHEN max(a.value) IS NOT NULL THEN CAST(hash(max(a.value)) >> 1 AS BIGINT) END AS code FROM customer_attributes a WHERE a.key = 'country' GROUP BY a.customer_id) AS a2 ON a2.ck = b.ck

-- lvj_b1
WITH pieces AS (SELECT seg0, seg1, seg2, cur, mrr_native AS n0, 0 AS n1, p_from AS t_from, p_to AS t_to FROM segs_b1 WHERE mrr_native > 0),
deltas AS (
  SELECT seg0, seg1, seg2, cur, 0 AS n0, 0 AS n1, t_from AS t, 0 AS dc, n0 AS mrr, 1 AS customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, 0 AS n0, 0 AS n1, t_to AS t, 0 AS dc, -(n0) AS mrr, -(1) AS customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, n0, n1, t_from AS t, 1 AS dc, 0 AS mrr, 0 AS customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, n0, n1, t_to AS t, -1 AS dc, 0 AS mrr, 0 AS customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
)
SELECT seg0, seg1, seg2, cur, n0, n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers
FROM deltas GROUP BY seg0, seg1, seg2, cur, n0, n1, t
HAVING sum(dc) <> 0 OR sum(mrr) <> 0 OR sum(customers) <> 0

-- fxj_b1
WITH moved AS (
  SELECT * FROM segs_b1
  WHERE mrr_native > 0 AND cur <> CAST(hash('EUR') >> 1 AS BIGINT) AND prev_native > 0 AND (prev_seg0 IS DISTINCT FROM seg0 OR prev_seg1 IS DISTINCT FROM seg1 OR prev_seg2 IS DISTINCT FROM seg2)
), deltas AS (
  SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, CASE WHEN prev_native > 0 THEN prev_seg1 ELSE seg1 END AS seg1, CASE WHEN prev_native > 0 THEN prev_seg2 ELSE seg2 END AS seg2, cur, mrr_native AS n0, p_from AS t, 1 AS dc FROM moved
  UNION ALL SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, CASE WHEN prev_native > 0 THEN prev_seg1 ELSE seg1 END AS seg1, CASE WHEN prev_native > 0 THEN prev_seg2 ELSE seg2 END AS seg2, cur, mrr_native AS n0, p_from + 1 AS t, -1 AS dc FROM moved
  UNION ALL SELECT seg0, seg1, seg2, cur, mrr_native AS n0, p_from AS t, -1 AS dc FROM moved
  UNION ALL SELECT seg0, seg1, seg2, cur, mrr_native AS n0, p_from + 1 AS t, 1 AS dc FROM moved
)
SELECT seg0, seg1, seg2, cur, n0, 0 AS n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(0 AS BIGINT) AS fx
FROM deltas GROUP BY seg0, seg1, seg2, cur, n0, t
HAVING sum(dc) <> 0

-- mvj_b1
SELECT CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END AS seg0, CASE WHEN prev_native > 0 THEN prev_seg1 ELSE seg1 END AS seg1, CASE WHEN prev_native > 0 THEN prev_seg2 ELSE seg2 END AS seg2, p_from AS p, CAST(sum(CASE WHEN movement = 1 THEN amount ELSE 0 END) AS BIGINT) AS new, CAST(sum(CASE WHEN movement = 2 THEN amount ELSE 0 END) AS BIGINT) AS reactivation, CAST(sum(CASE WHEN movement = 3 THEN amount ELSE 0 END) AS BIGINT) AS expansion, CAST(sum(CASE WHEN movement = 4 THEN amount ELSE 0 END) AS BIGINT) AS contraction, CAST(sum(CASE WHEN movement = 5 THEN amount ELSE 0 END) AS BIGINT) AS churn, CAST(sum(CASE WHEN movement = 1 THEN 1 ELSE 0 END) AS BIGINT) AS new_customers, CAST(sum(CASE WHEN movement = 2 THEN 1 ELSE 0 END) AS BIGINT) AS reactivated_customers, CAST(sum(CASE WHEN movement = 5 THEN 1 ELSE 0 END) AS BIGINT) AS churned_customers, CAST(sum(CASE WHEN involuntary THEN amount ELSE 0 END) AS BIGINT) AS involuntary_churn
FROM segs_b1 WHERE movement IS NOT NULL
GROUP BY CASE WHEN prev_native > 0 THEN prev_seg0 ELSE seg0 END, CASE WHEN prev_native > 0 THEN prev_seg1 ELSE seg1 END, CASE WHEN prev_native > 0 THEN prev_seg2 ELSE seg2 END, p_from
HAVING sum(CASE WHEN movement = 1 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 2 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 3 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 4 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 5 THEN amount ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 1 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 2 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN movement = 5 THEN 1 ELSE 0 END) <> 0 OR sum(CASE WHEN involuntary THEN amount ELSE 0 END) <> 0

-- wcj_12_b1
WITH pieces AS (
SELECT x0.seg0, x0.seg1, x0.seg2, x0.cur, x0.mrr_native AS n0, x1.mrr_native AS n1,
       greatest(x0.p_from, x1.p_from - 12, 24288) AS t_from,
       least(x0.p_to, x1.p_to - 12) AS t_to
FROM segs_b1 x0
JOIN segs_b1 x1 ON x1.ck = x0.ck AND x1.p_from > x0.p_from
     AND x1.p_from - 12 < x0.p_to
WHERE x0.mrr_native > 0 AND x0.p_to < 10000000 AND x1.mrr_native <> x0.mrr_native
  AND greatest(x0.p_from, x1.p_from - 12, 24288) < least(x0.p_to, x1.p_to - 12)),
deltas AS (
  SELECT seg0, seg1, seg2, cur, 0 AS n0, 0 AS n1, t_from AS t, 0 AS dc, CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END AS expansion, CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END AS contraction, CASE WHEN n1 = 0 THEN n0 ELSE 0 END AS churn, CASE WHEN n1 = 0 THEN 1 ELSE 0 END AS churned_customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, 0 AS n0, 0 AS n1, t_to AS t, 0 AS dc, -(CASE WHEN n1 > 0 AND n1 > n0 THEN n1 - n0 ELSE 0 END) AS expansion, -(CASE WHEN n1 > 0 AND n1 < n0 THEN n0 - n1 ELSE 0 END) AS contraction, -(CASE WHEN n1 = 0 THEN n0 ELSE 0 END) AS churn, -(CASE WHEN n1 = 0 THEN 1 ELSE 0 END) AS churned_customers
  FROM pieces WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, n0, n1, t_from AS t, 1 AS dc, 0 AS expansion, 0 AS contraction, 0 AS churn, 0 AS churned_customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  UNION ALL
  SELECT seg0, seg1, seg2, cur, n0, n1, t_to AS t, -1 AS dc, 0 AS expansion, 0 AS contraction, 0 AS churn, 0 AS churned_customers
  FROM pieces WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
)
SELECT seg0, seg1, seg2, cur, n0, n1, t, CAST(sum(dc) AS BIGINT) AS dc, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers
FROM deltas GROUP BY seg0, seg1, seg2, cur, n0, n1, t
HAVING sum(dc) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0

-- labels_b1
SELECT dim, code, label FROM plan_labels
UNION ALL
SELECT 'country' AS dim, CASE WHEN label IS NOT NULL THEN CAST(hash(label) >> 1 AS BIGINT) END AS code, label FROM (SELECT DISTINCT value AS label FROM customer_attributes WHERE key = 'country' AND value IS NOT NULL) AS d

-- lvc_b1 (view)
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.t, x.mrr, x.customers FROM (SELECT seg0 AS code, t, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM (SELECT * FROM lvj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.t, x.mrr, x.customers FROM (SELECT seg1 AS code, t, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM (SELECT * FROM lvj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg1, t HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.t, x.mrr, x.customers FROM (SELECT seg2 AS code, t, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM (SELECT * FROM lvj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg2, t HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code

-- fxc_b1 (view)
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.t, x.fx FROM (SELECT seg0 AS code, t, CAST(sum(fx) AS BIGINT) AS fx FROM (SELECT * FROM fxj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(fx) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.t, x.fx FROM (SELECT seg1 AS code, t, CAST(sum(fx) AS BIGINT) AS fx FROM (SELECT * FROM fxj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg1, t HAVING sum(fx) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.t, x.fx FROM (SELECT seg2 AS code, t, CAST(sum(fx) AS BIGINT) AS fx FROM (SELECT * FROM fxj_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg2, t HAVING sum(fx) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code

-- mvc_b1 (view)
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.p, x.new, x.reactivation, x.expansion, x.contraction, x.churn, x.new_customers, x.reactivated_customers, x.churned_customers, x.involuntary_churn FROM (SELECT seg0 AS code, p, CAST(sum(new) AS BIGINT) AS new, CAST(sum(reactivation) AS BIGINT) AS reactivation, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(new_customers) AS BIGINT) AS new_customers, CAST(sum(reactivated_customers) AS BIGINT) AS reactivated_customers, CAST(sum(churned_customers) AS BIGINT) AS churned_customers, CAST(sum(involuntary_churn) AS BIGINT) AS involuntary_churn FROM mvj_b1 GROUP BY seg0, p HAVING sum(new) <> 0 OR sum(reactivation) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(new_customers) <> 0 OR sum(reactivated_customers) <> 0 OR sum(churned_customers) <> 0 OR sum(involuntary_churn) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.p, x.new, x.reactivation, x.expansion, x.contraction, x.churn, x.new_customers, x.reactivated_customers, x.churned_customers, x.involuntary_churn FROM (SELECT seg1 AS code, p, CAST(sum(new) AS BIGINT) AS new, CAST(sum(reactivation) AS BIGINT) AS reactivation, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(new_customers) AS BIGINT) AS new_customers, CAST(sum(reactivated_customers) AS BIGINT) AS reactivated_customers, CAST(sum(churned_customers) AS BIGINT) AS churned_customers, CAST(sum(involuntary_churn) AS BIGINT) AS involuntary_churn FROM mvj_b1 GROUP BY seg1, p HAVING sum(new) <> 0 OR sum(reactivation) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(new_customers) <> 0 OR sum(reactivated_customers) <> 0 OR sum(churned_customers) <> 0 OR sum(involuntary_churn) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.p, x.new, x.reactivation, x.expansion, x.contraction, x.churn, x.new_customers, x.reactivated_customers, x.churned_customers, x.involuntary_churn FROM (SELECT seg2 AS code, p, CAST(sum(new) AS BIGINT) AS new, CAST(sum(reactivation) AS BIGINT) AS reactivation, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(new_customers) AS BIGINT) AS new_customers, CAST(sum(reactivated_customers) AS BIGINT) AS reactivated_customers, CAST(sum(churned_customers) AS BIGINT) AS churned_customers, CAST(sum(involuntary_churn) AS BIGINT) AS involuntary_churn FROM mvj_b1 GROUP BY seg2, p HAVING sum(new) <> 0 OR sum(reactivation) <> 0 OR sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(new_customers) <> 0 OR sum(reactivated_customers) <> 0 OR sum(churned_customers) <> 0 OR sum(involuntary_churn) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code

-- wcc_12_b1 (view)
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.t, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg0 AS code, t, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM (SELECT * FROM wcj_12_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg0, t HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.t, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg1 AS code, t, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM (SELECT * FROM wcj_12_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg1, t HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.t, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg2 AS code, t, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM (SELECT * FROM wcj_12_b1 WHERE cur = CAST(hash('EUR') >> 1 AS BIGINT)) AS h GROUP BY seg2, t HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code

-- seg_plan (view)
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, coalesce(l0.label, '(none)') AS seg, coalesce(l1.label, '(none)') AS prev_seg FROM segs_b1 b LEFT JOIN labels_b1 l0 ON l0.dim = 'plan' AND l0.code = b.seg0 LEFT JOIN labels_b1 l1 ON l1.dim = 'plan' AND l1.code = b.prev_seg0

-- seg_size (view)
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, CASE WHEN b.seg1 = 0 THEN '< 100' WHEN b.seg1 = 1 THEN '100–500' WHEN b.seg1 = 2 THEN '500–2,000' WHEN b.seg1 = 3 THEN '≥ 2,000' END AS seg, CASE WHEN b.prev_seg1 = 0 THEN '< 100' WHEN b.prev_seg1 = 1 THEN '100–500' WHEN b.prev_seg1 = 2 THEN '500–2,000' WHEN b.prev_seg1 = 3 THEN '≥ 2,000' END AS prev_seg FROM segs_b1 b

-- seg_country (view)
SELECT b.ck, b.p_from, b.p_to, b.cur, b.mrr_native, b.prev_native, b.movement, b.amount, b.involuntary, coalesce(l0.label, '(unknown)') AS seg, coalesce(l1.label, '(unknown)') AS prev_seg FROM segs_b1 b LEFT JOIN labels_b1 l0 ON l0.dim = 'country' AND l0.code = b.seg2 LEFT JOIN labels_b1 l1 ON l1.dim = 'country' AND l1.code = b.prev_seg2

-- levels_b1
WITH fintervals AS (
  SELECT seg0, seg1, seg2, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM lvj_b1 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, seg1, seg2, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, f.seg1, f.seg2, ps.p + 0 AS p, sum(f.cnt * (CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END)) AS mrr, sum(f.cnt * (1)) AS customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, f.seg1, f.seg2, ps.p + 0
), fsums AS (
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.p, x.mrr, x.customers FROM (SELECT seg0 AS code, p, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM fjoint GROUP BY seg0, p HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.p, x.mrr, x.customers FROM (SELECT seg1 AS code, p, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM fjoint GROUP BY seg1, p HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.p, x.mrr, x.customers FROM (SELECT seg2 AS code, p, CAST(sum(mrr) AS BIGINT) AS mrr, CAST(sum(customers) AS BIGINT) AS customers FROM fjoint GROUP BY seg2, p HAVING sum(mrr) <> 0 OR sum(customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code
), home_summed AS (
  SELECT dim, seg, t + 0 AS p, mrr, customers FROM lvc_b1
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.mrr, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS mrr, sum(coalesce(d.customers, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS customers
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.mrr + coalesce(x.mrr, 0) AS BIGINT) AS mrr, CAST(h.customers + coalesce(x.customers, 0) AS BIGINT) AS customers
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- fx_b1
WITH fintervals AS (
  SELECT seg0, seg1, seg2, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM (SELECT seg0, seg1, seg2, cur, n0, n1, t, dc FROM lvj_b1 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT) UNION ALL SELECT seg0, seg1, seg2, cur, n0, n1, t, dc FROM fxj_b1) AS j WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, seg1, seg2, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, f.seg1, f.seg2, ps.p + 0 AS p, sum(f.cnt * (CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END - CASE WHEN abs((n0 * rp.rate_f)) < 1e9 AND abs((n0 * rp.rate_f) - floor((n0 * rp.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * rp.rate_f)) AS BIGINT) ELSE CAST(round(n0 * rp.rate) AS BIGINT) END)) AS fx
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, f.seg1, f.seg2, ps.p + 0
), fsums AS (
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.p, x.fx FROM (SELECT seg0 AS code, p, CAST(sum(fx) AS BIGINT) AS fx FROM fjoint GROUP BY seg0, p HAVING sum(fx) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.p, x.fx FROM (SELECT seg1 AS code, p, CAST(sum(fx) AS BIGINT) AS fx FROM fjoint GROUP BY seg1, p HAVING sum(fx) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.p, x.fx FROM (SELECT seg2 AS code, p, CAST(sum(fx) AS BIGINT) AS fx FROM fjoint GROUP BY seg2, p HAVING sum(fx) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code
), home_summed AS (
  SELECT dim, seg, t + 0 AS p, fx FROM fxc_b1
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.fx, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS fx
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.fx + coalesce(x.fx, 0) AS BIGINT) AS fx
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- bridge_b1
WITH segs AS (
  SELECT dim, seg FROM levels_b1 GROUP BY dim, seg HAVING max(customers) > 0
  UNION SELECT dim, seg FROM mvc_b1 WHERE p >= 24288 AND p <= 24321
)
SELECT g.dim, g.seg AS segment, ps.p, ps.period_end,
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
       CAST(coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers,
       CAST(coalesce(x.involuntary_churn, 0) AS BIGINT) AS involuntary_churn
FROM (SELECT DISTINCT dim, seg FROM segs) AS g
CROSS JOIN periods ps
LEFT JOIN levels_b1 l0 ON l0.dim = g.dim AND l0.seg = g.seg AND l0.p = ps.p - 1
LEFT JOIN mvc_b1 x ON x.dim = g.dim AND x.seg = g.seg AND x.p = ps.p
LEFT JOIN fx_b1 f ON f.dim = g.dim AND f.seg = g.seg AND f.p = ps.p
WHERE ps.p >= 24288

-- retention_1_b1 (view)
SELECT dim, segment, p, period_end, 1 AS window_periods, start_mrr,
       CAST(start_mrr + expansion - contraction - churn AS BIGINT) AS end_mrr,
       CAST(start_mrr - contraction - churn AS BIGINT) AS gross_mrr,
       expansion, contraction, churn, customers_start,
       CAST(customers_start - churned_customers AS BIGINT) AS customers_retained
FROM bridge_b1
WHERE p - 1 >= 24288 AND customers_start > 0

-- wchanges_12_b1
WITH fintervals AS (
  SELECT seg0, seg1, seg2, cur, n0, n1, t AS t_from, lead(t) OVER w AS t_to,
         sum(dc) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cnt
  FROM wcj_12_b1 WHERE cur <> CAST(hash('EUR') >> 1 AS BIGINT)
  WINDOW w AS (PARTITION BY seg0, seg1, seg2, cur, n0, n1 ORDER BY t)
), fjoint AS (
  SELECT f.seg0, f.seg1, f.seg2, ps.p + 12 AS p, sum(f.cnt * (CASE WHEN n1 > 0 AND CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END > CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END THEN CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END - CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END ELSE 0 END)) AS expansion, sum(f.cnt * (CASE WHEN n1 > 0 AND CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END < CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END THEN CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END - CASE WHEN abs((n1 * r.rate_f)) < 1e9 AND abs((n1 * r.rate_f) - floor((n1 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n1 * r.rate_f)) AS BIGINT) ELSE CAST(round(n1 * r.rate) AS BIGINT) END ELSE 0 END)) AS contraction, sum(f.cnt * (CASE WHEN n1 = 0 THEN CASE WHEN abs((n0 * r.rate_f)) < 1e9 AND abs((n0 * r.rate_f) - floor((n0 * r.rate_f)) - 0.5) > 1e-6 THEN CAST(round((n0 * r.rate_f)) AS BIGINT) ELSE CAST(round(n0 * r.rate) AS BIGINT) END ELSE 0 END)) AS churn, sum(f.cnt * (CASE WHEN n1 = 0 THEN 1 ELSE 0 END)) AS churned_customers
  FROM fintervals f
  JOIN periods ps ON ps.p >= f.t_from AND ps.p < f.t_to
  JOIN rates r ON r.cur = f.cur AND r.p = ps.p + 0
  LEFT JOIN rates rp ON rp.cur = f.cur AND rp.p = ps.p - 1
  WHERE f.cnt <> 0 AND f.t_to IS NOT NULL
  GROUP BY f.seg0, f.seg1, f.seg2, ps.p + 12
), fsums AS (
SELECT 'plan' AS dim, coalesce(l.label, '(none)') AS seg, x.p, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg0 AS code, p, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM fjoint GROUP BY seg0, p HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'plan' AND l.code = x.code
UNION ALL
SELECT 'size' AS dim, CASE WHEN x.code = 0 THEN '< 100' WHEN x.code = 1 THEN '100–500' WHEN x.code = 2 THEN '500–2,000' WHEN x.code = 3 THEN '≥ 2,000' END AS seg, x.p, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg1 AS code, p, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM fjoint GROUP BY seg1, p HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x 
UNION ALL
SELECT 'country' AS dim, coalesce(l.label, '(unknown)') AS seg, x.p, x.expansion, x.contraction, x.churn, x.churned_customers FROM (SELECT seg2 AS code, p, CAST(sum(expansion) AS BIGINT) AS expansion, CAST(sum(contraction) AS BIGINT) AS contraction, CAST(sum(churn) AS BIGINT) AS churn, CAST(sum(churned_customers) AS BIGINT) AS churned_customers FROM fjoint GROUP BY seg2, p HAVING sum(expansion) <> 0 OR sum(contraction) <> 0 OR sum(churn) <> 0 OR sum(churned_customers) <> 0) AS x LEFT JOIN labels_b1 l ON l.dim = 'country' AND l.code = x.code
), home_summed AS (
  SELECT dim, seg, t + 12 AS p, expansion, contraction, churn, churned_customers FROM wcc_12_b1
), segs AS (
  SELECT dim, seg FROM home_summed UNION SELECT dim, seg FROM fsums
), grid AS (
  SELECT segs.dim, segs.seg, ps.p FROM segs CROSS JOIN periods ps
), home AS (
  SELECT g.dim, g.seg, g.p, sum(coalesce(d.expansion, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS expansion, sum(coalesce(d.contraction, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS contraction, sum(coalesce(d.churn, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churn, sum(coalesce(d.churned_customers, 0)) OVER (PARTITION BY g.dim, g.seg ORDER BY g.p ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS churned_customers
  FROM grid g LEFT JOIN home_summed d ON d.dim = g.dim AND d.seg = g.seg AND d.p = g.p
)
SELECT h.dim, h.seg, h.p, CAST(h.expansion + coalesce(x.expansion, 0) AS BIGINT) AS expansion, CAST(h.contraction + coalesce(x.contraction, 0) AS BIGINT) AS contraction, CAST(h.churn + coalesce(x.churn, 0) AS BIGINT) AS churn, CAST(h.churned_customers + coalesce(x.churned_customers, 0) AS BIGINT) AS churned_customers
FROM home h LEFT JOIN fsums x ON x.dim = h.dim AND x.seg = h.seg AND x.p = h.p

-- retention_12_b1
SELECT l0.dim, l0.seg AS segment, l0.p + 12 AS p, ps.period_end,
       12 AS window_periods, l0.mrr AS start_mrr,
       CAST(l0.mrr + coalesce(c.expansion, 0) - coalesce(c.contraction, 0) - coalesce(c.churn, 0)
            AS BIGINT) AS end_mrr,
       CAST(l0.mrr - coalesce(c.contraction, 0) - coalesce(c.churn, 0) AS BIGINT) AS gross_mrr,
       CAST(coalesce(c.expansion, 0) AS BIGINT) AS expansion,
       CAST(coalesce(c.contraction, 0) AS BIGINT) AS contraction,
       CAST(coalesce(c.churn, 0) AS BIGINT) AS churn,
       l0.customers AS customers_start,
       CAST(l0.customers - coalesce(c.churned_customers, 0) AS BIGINT) AS customers_retained
FROM levels_b1 l0
JOIN periods ps ON ps.p = l0.p + 12
LEFT JOIN wchanges_12_b1 c ON c.dim = l0.dim AND c.seg = l0.seg AND c.p = l0.p + 12
WHERE l0.p >= 24288 AND l0.customers > 0

-- bridge_plan (view)
SELECT segment, p, period_end, start_mrr, new, reactivation, expansion, contraction, churn, fx, end_mrr, customers_start, customers_end, new_customers, reactivated_customers, churned_customers, involuntary_churn FROM bridge_b1 WHERE dim = 'plan'

-- retention_plan_1 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_1_b1 WHERE dim = 'plan'

-- retention_plan_12 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_12_b1 WHERE dim = 'plan'

-- bridge_size (view)
SELECT segment, p, period_end, start_mrr, new, reactivation, expansion, contraction, churn, fx, end_mrr, customers_start, customers_end, new_customers, reactivated_customers, churned_customers, involuntary_churn FROM bridge_b1 WHERE dim = 'size'

-- retention_size_1 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_1_b1 WHERE dim = 'size'

-- retention_size_12 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_12_b1 WHERE dim = 'size'

-- bridge_country (view)
SELECT segment, p, period_end, start_mrr, new, reactivation, expansion, contraction, churn, fx, end_mrr, customers_start, customers_end, new_customers, reactivated_customers, churned_customers, involuntary_churn FROM bridge_b1 WHERE dim = 'country'

-- retention_country_1 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_1_b1 WHERE dim = 'country'

-- retention_country_12 (view)
SELECT segment, p, period_end, window_periods, start_mrr, end_mrr, gross_mrr, expansion, contraction, churn, customers_start, customers_retained FROM retention_12_b1 WHERE dim = 'country'
