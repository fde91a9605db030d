// main.c: the `cascade` command — dispatch to the subcommands.
//   cascade run | bench | sweep | calibrate | info   (each takes --help)
#include "blas_tune.h"
#include "commands.h"
#include "interrupt.h"
#include "output_paths.h"
#include "version.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char usage[] =
    "usage: cascade COMMAND [options]\n"
    "GPU-native cascade inference: a cheap CNN on every image, an expensive CNN on\n"
    "the images it is unsure of.\n\n"
    "commands:\n"
    "  run        run a cascade over a CIFAR-10 binary file (the main job)\n"
    "  bench      measure throughput of models and cascades\n"
    "  sweep      accuracy / deferral / predicted speed over cheap models and thresholds\n"
    "  calibrate  choose the cheap model and threshold for a target accuracy\n"
    "  info       describe a model file\n\n"
    "'cascade COMMAND --help' (or 'cascade help COMMAND') describes each;\n"
    "'cascade --version' names the build. Assets\n"
    "(weights, data) are found under $CASCADE_ASSETS, default ../shared when it has\n"
    "weights/, else the shared/ beside the source tree the binary was built from.\n";

typedef struct {
    const char *name;
    int (*run)(int, char **);
    int stops; // 1: stops cleanly on SIGINT / SIGTERM (interrupt_install; one while starting is kept for it)
} command;

static const command commands[] = {
    {"run", cmd_run, 1}, {"bench", cmd_bench, 1}, {"sweep", cmd_sweep, 1}, {"calibrate", cmd_calibrate, 1},
    {"info", cmd_info, 0},
};

static const command *find_command(const char *name) {
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(name, commands[i].name)) return &commands[i];
    return NULL;
}

// 0 once standard output holds what was printed, else 1 with one line.
static int stdout_written(void) {
    if (fflush(stdout) == 0 && !ferror(stdout)) return 0;
    fprintf(stderr, "cascade: cannot write standard output: %s\n", strerror(errno));
    return 1;
}

// The help, the version, or the command argv names; its exit status.
static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "cascade: no command given: run, bench, sweep, calibrate or info (see cascade --help)\n");
        return EXIT_USAGE;
    }
    // `cascade help run` (or --help run, -h run): `cascade run --help`
    char *help_of[] = {argv[0], argc > 2 ? argv[2] : NULL, "--help", NULL};
    int asks_help = !strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h");
    if (asks_help && argc == 3 && strcmp(argv[2], "help") && strcmp(argv[2], "--help") && strcmp(argv[2], "-h"))
        argv = help_of;
    else if (asks_help && argc > 3) {
        fprintf(stderr, "cascade %s: one command at most, not %d words (see cascade --help)\n", argv[1], argc - 2);
        return EXIT_USAGE;
    } else if (asks_help) {
        fputs(usage, stdout);
        return stdout_written();
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        if (argc == 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) {
            fputs("usage: cascade --version   (or cascade version)\n"
                  "The build: the project's version, the git commit built, the backends in it.\n", stdout);
            return stdout_written();
        }
        if (argc > 2) {
            fprintf(stderr, "cascade %s: takes no arguments (see cascade --help)\n", argv[1]);
            return EXIT_USAGE;
        }
#ifdef CASCADE_HAVE_CUDA
        printf("cascade %s, CPU and GPU backends\n", cascade_version());
#else
        printf("cascade %s, CPU backend only (built without CUDA)\n", cascade_version());
#endif
        return stdout_written();
    }
    const command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "cascade: unknown command '%s' (see cascade --help)\n", argv[1]);
        return EXIT_USAGE;
    }
    input_fault_install(c->name);
    if (!c->stops) interrupt_early_release(); // its signals as the process was started with them
    int status = c->run(argc - 2, argv + 2);
    if (fflush(stdout) != 0 || ferror(stdout)) { // e.g. stdout on a full disk: say so, fail
        fprintf(stderr, "cascade %s: cannot write standard output: %s\n", argv[1], strerror(errno));
        return status ? status : 1;
    }
    return status;
}

int main(int argc, char **argv) {
    interrupt_early_install(); // a stop while starting (the re-exec included) reaches the command, not a kill
    output_paths_hold_standard();
    signal(SIGPIPE, SIG_IGN); // a reader gone (`| head`): a write error, outputs removed, not a kill
    signal(SIGXFSZ, SIG_IGN); // past a file-size limit (ulimit -f): writes fail with EFBIG, a clean error
    const command *c = argc > 1 ? find_command(argv[1]) : NULL;
    if (c && c->stops) { // the commands that compute: OpenBLAS's and OpenMP's settings first (blas_tune.h)
        interrupt_before_exec();
        blas_tune_reexec(argv);
        interrupt_early_install(); // no exec: as before it
    }
    input_fault_install(NULL);
    int status = dispatch(argc, argv);
    interrupt_early_release(); // a stop the command never took (it ended before its handler) acts now
    return status;
}
