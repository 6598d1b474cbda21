"""Face pipeline: detector -> landmarks -> aligner -> embedder."""
