#!/bin/bash
set -eo pipefail
source @ROOT@/workspaces/.config_dev//bind_env.sh
cd @ROOT@/workspaces/dev
echo "$(tput smso)Executing hook: @ROOT@/configs/board/alpha/hooks/post.sh$(tput sgr0)"
SKIFF_CURRENT_CONF_DIR="@ROOT@/configs/board/alpha" @ROOT@/configs/board/alpha/hooks/post.sh
echo "$(tput smso)Executing hook: @ROOT@/overrides/workspaces/dev//hooks/post.sh$(tput sgr0)"
SKIFF_CURRENT_CONF_DIR="@ROOT@/overrides/workspaces/dev/" @ROOT@/overrides/workspaces/dev//hooks/post.sh
