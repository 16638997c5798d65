"""Pure scoring: (step, response) -> StepResult with criteria, evidence and feedback.

Public API:
- graders.registry: GRADERS (name -> grader), get_grader(name)
- graders.scoring: grade_step, grade_attempt, combine_attempts
- graders.result: StepResult, CriterionResult, Evidence, AttemptResult (each with as_dict())
- graders.base: BoundStep, Grader, GradingError, ResponseError (caller's fault, 4xx),
  StepConfigError (content's fault)
- graders.cli: grade_command (mounted as `coachlab grade`)
"""
