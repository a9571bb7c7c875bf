namespace Reference.AppHost.Backing;

/// <summary>How MySQL, Redis and RabbitMQ are run. Set with <c>Backing:Mode</c>.</summary>
public enum BackingMode
{
    /// <summary>Local server programs if installed, else containers if an engine answers.</summary>
    Auto,

    /// <summary>The Debian server programs as child processes of the AppHost.</summary>
    Local,

    /// <summary>The official container images, with data volumes.</summary>
    Container,
}

/// <summary>Decides what <see cref="BackingMode.Auto"/> means on this machine.</summary>
public sealed class BackingModeResolver(Func<string, bool> programExists, Func<bool> containerEngineAnswers)
{
    /// <summary>The programs local mode runs (from the Debian packages mariadb-server, redis-server, rabbitmq-server).</summary>
    public static readonly IReadOnlyList<string> LocalPrograms =
        ["mariadbd", "mariadb-install-db", "redis-server", "/usr/lib/rabbitmq/bin/rabbitmq-server"];

    public static BackingModeResolver ForThisMachine() => new(ProgramExists, ContainerEngineAnswers);

    public BackingMode Resolve(BackingMode configured)
    {
        var missing = LocalPrograms.Where(p => !programExists(p)).ToList();
        switch (configured)
        {
            case BackingMode.Local when missing.Count > 0:
                throw new BackingModeException(
                    $"Backing:Mode is 'local' but {string.Join(", ", missing)} {(missing.Count == 1 ? "is" : "are")} not installed. " +
                    "Install them with: sudo apt-get install -y mariadb-server redis-server rabbitmq-server " +
                    "(./dev.sh run does this for you), or set Backing:Mode=container.");
            case BackingMode.Auto when missing.Count == 0:
                return BackingMode.Local;
            case BackingMode.Auto when containerEngineAnswers():
                return BackingMode.Container;
            case BackingMode.Auto:
                throw new BackingModeException(
                    $"No way to run MySQL, Redis and RabbitMQ was found: {string.Join(", ", missing)} " +
                    $"{(missing.Count == 1 ? "is" : "are")} not installed and no container engine (docker or podman) answers. " +
                    "Install the servers with: sudo apt-get install -y mariadb-server redis-server rabbitmq-server " +
                    "(./dev.sh run does this for you), or start Docker or Podman.");
            default:
                return configured;
        }
    }

    private static bool ProgramExists(string program) =>
        Path.IsPathRooted(program)
            ? File.Exists(program)
            : (Environment.GetEnvironmentVariable("PATH") ?? "")
                .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
                .Append("/usr/sbin").Append("/usr/bin")
                .Any(dir => File.Exists(Path.Combine(dir, program)));

    private static bool ContainerEngineAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME");
        return (runtime is null ? ["docker", "podman"] : new[] { runtime }).Any(cli =>
        {
            if (!ProgramExists(cli))
            {
                return false;
            }

            try
            {
                using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(cli, "info")
                {
                    RedirectStandardOutput = true,
                    RedirectStandardError = true,
                });
                if (process is null)
                {
                    return false;
                }

                if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
                {
                    process.Kill(entireProcessTree: true);
                    return false;
                }

                return process.ExitCode == 0;
            }
            catch (System.ComponentModel.Win32Exception)
            {
                return false;
            }
        });
    }
}

public sealed class BackingModeException(string message) : Exception(message);
