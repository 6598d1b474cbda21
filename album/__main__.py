import sys

from album.cli.main import main

sys.exit(main())
