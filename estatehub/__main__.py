import sys

from estatehub.cli import main

sys.exit(main())
