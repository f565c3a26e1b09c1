"""Inputs: YAML and JSON read safely with positions, the profile model and its consistency checks, the
terminology, and FHIR R4 import.
"""
