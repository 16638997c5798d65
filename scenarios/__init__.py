"""Scenario model, loader, focus derivation and the scenario library. Pure Python."""
