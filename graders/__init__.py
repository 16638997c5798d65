"""Pure scoring: (step, response) -> StepResult with criteria, evidence and feedback."""
