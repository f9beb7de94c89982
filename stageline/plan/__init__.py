"""Offline plans: the real program for a stage, evaluated under Pulumi's mocks."""
