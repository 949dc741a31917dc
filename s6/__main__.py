import sys

from s6.cli import main

sys.exit(main())
