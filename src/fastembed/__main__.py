import sys

from fastembed.cli import main

sys.exit(main())
