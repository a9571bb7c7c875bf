using System.Diagnostics;
using Reference.Tests.Support;

namespace Reference.AppHost.Tests;

/// <summary>A service's one-shot database set-up (<c>--migrate</c>), run from its built dll as the AppHost runs it.</summary>
internal sealed class DatabaseSetupProcess : IDisposable
{
    private readonly Process _process;
    private readonly Task<string> _stdout;
    private readonly Task<string> _stderr;

    private DatabaseSetupProcess(Process process)
    {
        _process = process;
        _stdout = process.StandardOutput.ReadToEndAsync();
        _stderr = process.StandardError.ReadToEndAsync();
    }

    public string Project { get; private init; } = "";

    public bool HasExited => _process.HasExited;

    public static DatabaseSetupProcess Start(BackingServers servers, string project, string database, string user)
    {
        var configuration = AppContext.BaseDirectory.Contains("/bin/Release/", StringComparison.Ordinal) ? "Release" : "Debug";
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = RepoPaths.Root,
        };
        start.ArgumentList.Add(Path.Combine(RepoPaths.Root, project, "bin", configuration, "net10.0", $"Reference.{project}.dll"));
        start.ArgumentList.Add("--migrate");
        start.Environment["ConnectionStrings__mysql-admin"] = servers.MySqlAdminConnectionString;
        start.Environment[$"ConnectionStrings__{database}"] = servers.MySqlConnectionStringFor(user, database);
        start.Environment["MySql__ServerVersion"] = servers.MySqlServerVersion;
        start.Environment.Remove("OTEL_EXPORTER_OTLP_ENDPOINT");
        return new DatabaseSetupProcess(Process.Start(start)!) { Project = project };
    }

    /// <summary>Waits for the set-up to end and fails with its output unless it exited 0; returns its output.</summary>
    public async Task<string> SucceedsAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        await _process.WaitForExitAsync(timeout.Token);
        var output = await _stdout + await _stderr;
        Assert.True(_process.ExitCode == 0, $"{Project} --migrate exited {_process.ExitCode}:\n{output}");
        return output;
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
        }

        _process.Dispose();
    }
}
