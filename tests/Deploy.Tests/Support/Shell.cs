using System.Diagnostics;
using System.Text;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests.Support;

public sealed record CommandResult(int ExitCode, string Output, string Errors)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>Runs a program to completion, logging the command line and how long it took.</summary>
public sealed class Shell(ITestOutputHelper log, IReadOnlyDictionary<string, string>? environment = null)
{
    public async Task<CommandResult> RunAsync(
        string program,
        IEnumerable<string> arguments,
        CancellationToken cancellationToken,
        string? workingDirectory = null,
        bool check = true,
        bool quiet = false,
        Stream? standardInput = null)
    {
        var start = new ProcessStartInfo(program)
        {
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = standardInput is not null,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }

        var commandLine = program + " " + string.Join(' ', start.ArgumentList);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start " + program);
        var output = new StringBuilder();
        var errors = new StringBuilder();
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) { lock (output) { output.AppendLine(e.Data); } } };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) { lock (errors) { errors.AppendLine(e.Data); } } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (standardInput is not null)
        {
            await standardInput.CopyToAsync(process.StandardInput.BaseStream, cancellationToken);
            process.StandardInput.Close();
        }

        try
        {
            await process.WaitForExitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        process.WaitForExit(); // drains the output handlers
        var result = new CommandResult(process.ExitCode, output.ToString(), errors.ToString());
        if (!quiet)
        {
            Log($"$ {Shorten(commandLine)}  [{clock.Elapsed.TotalSeconds:0.0} s, exit {result.ExitCode}]");
        }

        if (check && !result.Succeeded)
        {
            throw new InvalidOperationException(
                $"{commandLine} failed (exit {result.ExitCode}):\n{Tail(result.Output)}\n{Tail(result.Errors)}");
        }

        return result;
    }

    public void Log(string message)
    {
        try
        {
            log.WriteLine($"{DateTime.UtcNow:HH:mm:ss} {message}");
        }
        catch (InvalidOperationException)
        {
            // The test has finished (a background loop outlived it): nothing to log to.
        }
    }

    public static string Tail(string text, int lines = 40) =>
        string.Join('\n', text.Split('\n').TakeLast(lines));

    private static string Shorten(string commandLine) =>
        commandLine.Length > 300 ? commandLine[..300] + " ..." : commandLine;
}
