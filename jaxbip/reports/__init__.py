"""Reports: the run's report, the robustness report, the metric table."""
