using System.Diagnostics;
using System.Text;

namespace Reference.Template.Tests;

public sealed record CliResult(string Command, int ExitCode, string Output)
{
    public void AssertSucceeded() =>
        Assert.True(ExitCode == 0, $"`{Command}` exited {ExitCode}:\n{Quote(Tail(Output, 6000))}");

    private static string Tail(string text, int length) => text.Length <= length ? text : "…" + text[^length..];

    /// <summary>Indented, so the new shop's own "Passed! - Failed: …" lines never count as ours in dev.sh's total.</summary>
    private static string Quote(string text) => string.Join('\n', text.Split('\n').Select(line => "  | " + line));
}

/// <summary>
/// Runs the dotnet CLI as a user would, in a clean environment: nothing from the test host's own
/// MSBuild or test platform leaks into the new shop's build, and no build server outlives the call
/// (a lingering server would keep the output pipes open and the CPU busy).
/// </summary>
public static class DotnetCli
{
    public static async Task<CliResult> RunAsync(string workingDirectory, TimeSpan timeout, params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var key in start.Environment.Keys.Where(IsTestHostVariable).ToList())
        {
            start.Environment.Remove(key);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["UseSharedCompilation"] = "false";

        var command = "dotnet " + string.Join(' ', arguments);
        var output = new StringBuilder();
        using var process = new Process { StartInfo = start };
        process.OutputDataReceived += (_, e) => Append(output, e.Data);
        process.ErrorDataReceived += (_, e) => Append(output, e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var cts = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            throw new TimeoutException($"`{command}` took longer than {timeout}:\n{output}");
        }

        lock (output)
        {
            return new CliResult(command, process.ExitCode, output.ToString());
        }
    }

    private static bool IsTestHostVariable(string key) =>
        key.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase)
        || key.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase);

    private static void Append(StringBuilder output, string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (output)
        {
            output.AppendLine(line);
        }
    }
}
