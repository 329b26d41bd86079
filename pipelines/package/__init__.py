"""Evidence packages: a run folder as a self-contained STAC catalog with a manifest of every
file's SHA-256 signed with the measurer's Ed25519 key, and the check a verifier runs on it
(hashes, signature, and a re-run of the computation from the packaged inputs).
"""
