# Job launchers, Kaldi syntax: $cmd [--gpu N] [--mem X] JOB=1:N log/x.JOB.log command ...
# Local machine (default): jobs run as parallel processes.
export train_cmd="utils/run.sh"
export cuda_cmd="utils/run.sh"
export decode_cmd="utils/run.sh"

# Slurm: uncomment, and put partition/account/time options in conf/slurm.conf.
# export train_cmd="utils/slurm.sh"
# export cuda_cmd="utils/slurm.sh"
# export decode_cmd="utils/slurm.sh"

# Several nodes: torchrun's rendezvous options, used by stage 3 when --ngpu > 1, e.g.
# export torchrun_opts="--nnodes 2 --rdzv_backend c10d --rdzv_endpoint HOST:29500 --rdzv_id glowtts"
