"""Vocoders: log-mel -> waveform. Chosen by name through :data:`glowtts.registry.VOCODERS`
(``glowtts.registry.build_vocoder``)."""
