# Root's shell in the Berth guest.
[ -z "$PS1" ] && return
HISTCONTROL=ignoredups:ignorespace
HISTSIZE=5000
shopt -s checkwinsize histappend
# Each command reaches ~/.bash_history as it runs, so a lesson's check can see what was typed.
PROMPT_COMMAND='history -a'
PS1='\[\e[1;32m\]\u@\h\[\e[0m\]:\[\e[1;34m\]\w\[\e[0m\]\$ '
alias ls='ls --color=auto'
alias grep='grep --color=auto'
[ -f /usr/share/bash-completion/bash_completion ] && . /usr/share/bash-completion/bash_completion
