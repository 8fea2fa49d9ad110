"""An independent, brute-force reference of the metric definitions, and random company generators.

Written without looking at the engine: it evaluates every customer on every period's reading day
straight from the revenue lines, so the engine's change-point SQL can be checked against it.

Choices the definitions leave open, as the reference makes them:
- the first period's movements are valued at the rate of the period before it when the rates hold
  one, else at the first period's own rate (then that period has no fx);
- settings act on the line's own end date (metered extension, then cancellation request, then the
  past-due grace) before the as-of date is applied, so a requested cancellation ends a line whose
  paid period runs past the as-of date;
- every movement, fx included, is its own row per customer and period (fx only when not 0);
- within a retention window a cohort customer with no MRR at t1 is churn, otherwise its netted
  change is expansion or contraction.
"""
