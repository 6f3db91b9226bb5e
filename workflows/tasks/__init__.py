"""seilearn FireTasks: each one small, idempotent and rerunnable (FireWorks' required_params + run_task)."""
