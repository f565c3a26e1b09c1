"""The assessment: compiled protocols, the report and its parts, explanations and FHIR provenance."""
