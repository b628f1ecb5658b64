// The mpirun launcher of `depthscale run -n N` (launch.hpp says why it exists).
#include "commands/launch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands/exit_codes.hpp"
#include "log/log.hpp"
#include "store/files.hpp"

namespace depthscale::app {

namespace {

const int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP, SIGUSR1};

// A private file for rank 0's exit code; removed when the launcher ends.
std::string make_exit_file() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/depthscale-exit-XXXXXX";
  std::vector<char> name(pattern.begin(), pattern.end());
  name.push_back('\0');
  const int fd = mkstemp(name.data());
  if (fd < 0)
    throw std::runtime_error("cannot create a file in " + pattern.substr(0, pattern.rfind('/')) +
                             ": " + std::strerror(errno));
  close(fd);
  return name.data();
}

// The code rank 0 left, or -1 when there is none.
int read_exit_file(const std::string& path) {
  std::ifstream in(path);
  int code = -1;
  if (!(in >> code)) return -1;
  return code;
}

}  // namespace

std::string self_executable(const std::string& fallback) {
  std::vector<char> buf(4096);
  const ssize_t n = readlink("/proc/self/exe", buf.data(), buf.size() - 1);
  return n > 0 ? std::string(buf.data(), size_t(n)) : fallback;
}

bool inside_mpi_launch() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "PMI_RANK"})
    if (std::getenv(v)) return true;
  return false;
}

int hand_exit_code_to_launcher(const LaunchedRun& launched, int rank, int code) {
  if (!launched.active()) return code;
  if (rank != 0) return 0;                                     // rank 0 speaks for the run
  if (launched.launcher_host != log::hostname()) return code;  // the launcher cannot read our /tmp
  try {
    const std::string text = std::to_string(code) + "\n";
    store::write_file_atomically(launched.exit_file, std::vector<char>(text.begin(), text.end()));
    return 0;
  } catch (const std::exception& e) {
    spdlog::warn("exit code not handed to the launcher ({}); mpirun will report it", e.what());
    return code;
  }
}

int launch_ranks(const LaunchRequest& r) {
  log::init(-1, log::hostname(), r.log_level);
  const std::string exit_file = make_exit_file();
  std::vector<std::string> args = {r.mpirun, "-np", std::to_string(r.ranks)};
  args.insert(args.end(), r.mpirun_args.begin(), r.mpirun_args.end());
  args.insert(args.end(), r.command.begin(), r.command.end());

  // The stop signals wait in the mask until the loop below takes them; the child restores the
  // mask before exec, so the ranks handle signals as usual.
  sigset_t stops, old;
  sigemptyset(&stops);
  for (int s : kStopSignals) sigaddset(&stops, s);
  sigaddset(&stops, SIGCHLD);
  sigprocmask(SIG_BLOCK, &stops, &old);

  const pid_t child = fork();
  if (child < 0) {
    sigprocmask(SIG_SETMASK, &old, nullptr);
    std::remove(exit_file.c_str());
    throw std::runtime_error(std::string("cannot start mpirun: fork: ") + std::strerror(errno));
  }
  if (child == 0) {
    setpgid(0, 0);                     // out of the terminal's group: Ctrl-C reaches the launcher
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // the launcher killed: mpirun stops the ranks (checkpoint)
    const int null = open("/dev/null", O_RDONLY);  // a background group must not read the tty
    if (null >= 0) dup2(null, STDIN_FILENO);
    setenv("DEPTHSCALE_EXIT_FILE", exit_file.c_str(), 1);
    setenv("DEPTHSCALE_LAUNCHER_HOST", log::hostname().c_str(), 1);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    std::fprintf(stderr, "error: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  setpgid(child, child);
  std::string shown;
  for (const auto& a : args) shown += (shown.empty() ? "" : " ") + a;
  spdlog::debug("launched: {}", shown);

  int signals = 0, status = 0;
  while (true) {
    const pid_t done = waitpid(child, &status, WNOHANG);
    if (done == child) break;
    timespec wait{0, 200 * 1000 * 1000};
    const int s = sigtimedwait(&stops, nullptr, &wait);
    if (s <= 0 || s == SIGCHLD) continue;
    ++signals;
    if (signals == 1)
      spdlog::warn("{}: every rank checkpoints and stops (a second signal stops at once)",
                   strsignal(s));
    kill(child, SIGUSR1);  // mpirun forwards it to every rank without aborting the job
  }
  sigprocmask(SIG_SETMASK, &old, nullptr);

  const int from_rank0 = read_exit_file(exit_file);
  std::remove(exit_file.c_str());
  if (WIFSIGNALED(status)) {
    spdlog::error("mpirun was killed by {}", strsignal(WTERMSIG(status)));
    return 128 + WTERMSIG(status);
  }
  const int code = WEXITSTATUS(status);
  if (code == 127 && from_rank0 < 0) return kError;  // exec failed; the child said why
  if (code != 0) return code;  // a rank failed or left at once, or rank 0 spoke through mpirun
  if (from_rank0 < 0) {
    spdlog::error("mpirun ended without the run's exit code from rank 0");
    return kError;
  }
  return from_rank0;
}

}  // namespace depthscale::app
