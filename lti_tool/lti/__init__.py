"""LTI 1.3 on top of pylti1p3: tool config, login and launch, launch references, AGS."""
