#!/bin/bash
set -eo pipefail
source @ROOT@/workspaces/.config_dev//bind_env.sh
cd @ROOT@/workspaces/dev
echo "$(tput smso)Executing hook: @ROOT@/configs-base/pre/hooks/pre.sh$(tput sgr0)"
SKIFF_CURRENT_CONF_DIR="@ROOT@/configs-base/pre" @ROOT@/configs-base/pre/hooks/pre.sh
echo "$(tput smso)Executing hook: @ROOT@/configs/board/alpha/hooks/pre.sh$(tput sgr0)"
SKIFF_CURRENT_CONF_DIR="@ROOT@/configs/board/alpha" @ROOT@/configs/board/alpha/hooks/pre.sh
