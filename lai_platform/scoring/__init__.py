"""Scoring a submission's predictions: the built-in evaluator or an organizer's evaluation
container, behind one interface."""
