"""The machinery every family uses: the notation (every symbol once), proof tiers, the registry,
the claim checker and the DDPM noise schedules. Nothing here derives an identity."""
