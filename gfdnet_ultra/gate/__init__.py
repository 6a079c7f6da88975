"""DefectNet-style defect gate: gate head, loss-weight schedules, metrics, threshold selection."""
