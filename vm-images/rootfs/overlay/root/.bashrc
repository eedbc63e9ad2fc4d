# Root's shell in the Berth guest.
[ -z "$PS1" ] && return
HISTCONTROL=ignoredups:ignorespace
HISTSIZE=5000
shopt -s checkwinsize histappend
# Each command reaches ~/.bash_history as it runs, so a lesson's check can see what was typed.
# The hostname is read at every prompt, not once as bash's \h does: an instance of a
# playground is renamed (node2…) after its shells started, and its prompt must say so.
# `read` is a builtin, so a prompt starts no process.
PROMPT_COMMAND='history -a; read -r BERTH_HOSTNAME < /proc/sys/kernel/hostname'
PS1='\[\e[1;32m\]\u@${BERTH_HOSTNAME%%.*}\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
alias ls='ls --color=auto'
alias grep='grep --color=auto'
[ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
