namespace Reference.Deploy.Tests.Support;

/// <summary>
/// deploy/compose.yaml run with docker-compose against podman's Docker API, as one project; or the compose
/// <paramref name="files"/> given (paths), in order.
/// </summary>
public sealed class ComposeStack(PodmanHost podman, string project, string envFile, IReadOnlyList<string>? files = null)
{
    public string Project { get; } = project;

    public async Task UpAsync(CancellationToken cancellationToken)
    {
        try
        {
            await ComposeAsync(cancellationToken, "up", "-d");
        }
        catch (InvalidOperationException e)
        {
            // The one-shot set-ups the services wait for have exited by then: their last words say why.
            var names = (await ContainersAsync(cancellationToken)).Select(c => c.Name);
            throw new InvalidOperationException($"{e.Message}\n{await LogTailsAsync(names, 200, cancellationToken)}", e);
        }
    }

    /// <summary>
    /// Recreates one service from deploy/compose.yaml with an override file of deploy/ on top
    /// (<c>up -d --no-deps</c>: the rest of the stack keeps running; no image is built).
    /// </summary>
    public Task UpServiceAsync(string service, string overrideFile, CancellationToken cancellationToken) =>
        podman.Shell.RunAsync("docker-compose",
            ["--project-name", Project, "--env-file", envFile, "--file", ComposeFile.FilePath,
             "--file", Path.Combine(ComposeFile.DeployDirectory, overrideFile), "up", "-d", "--no-deps", service],
            cancellationToken);

    /// <summary>The running containers of one service.</summary>
    public async Task<IReadOnlyList<string>> ServiceContainersAsync(string service, CancellationToken cancellationToken)
    {
        var listed = await podman.Shell.RunAsync("podman",
            ["ps", "-q", "--filter", "label=com.docker.compose.project=" + Project, "--filter", "label=com.docker.compose.service=" + service],
            cancellationToken, quiet: true);
        return listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>Runs a shell command in one container, quietly (for polling).</summary>
    public async Task<string> ExecInAsync(string container, string command, CancellationToken cancellationToken) =>
        (await podman.Shell.RunAsync("podman", ["exec", container, "sh", "-c", command], cancellationToken, quiet: true)).Output;

    public async Task<string> LogsAsync(string container, CancellationToken cancellationToken)
    {
        var logs = await podman.Shell.RunAsync("podman", ["logs", container], cancellationToken, check: false, quiet: true);
        return logs.Output + logs.Errors;
    }

    /// <summary>Removes containers and networks; with <paramref name="volumes"/> the data too.</summary>
    public Task DownAsync(bool volumes, CancellationToken cancellationToken) =>
        volumes
            ? ComposeAsync(cancellationToken, "down", "--volumes", "--remove-orphans", "--timeout", "10")
            : ComposeAsync(cancellationToken, "down", "--timeout", "30");

    /// <summary>Container name and health ("healthy", "starting", "unhealthy", or the state when it has none).</summary>
    public async Task<IReadOnlyList<(string Name, string Health)>> ContainersAsync(CancellationToken cancellationToken)
    {
        var ids = await IdsAsync(null, cancellationToken);
        if (ids.Count == 0)
        {
            return [];
        }

        var inspected = await podman.Shell.RunAsync("podman",
            new[] { "inspect", "--format", "{{.Name}} {{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{end}}" }.Concat(ids),
            cancellationToken, quiet: true);
        return inspected.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Select(parts => (parts[0], parts.Length > 2 ? parts[2] : parts[1]))
            .ToList();
    }

    public async Task WaitUntilHealthyAsync(int expectedContainers, TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        IReadOnlyList<(string Name, string Health)> containers = [];
        try
        {
            while (true)
            {
                // The databases' one-shot set-ups have exited by now; they are not part of the running stack.
                containers = (await ContainersAsync(deadline.Token)).Where(c => !c.Name.Contains("-setup", StringComparison.Ordinal)).ToList();
                if (containers.Count == expectedContainers && containers.All(c => c.Health == "healthy"))
                {
                    return;
                }

                await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            var unhealthy = containers.Where(c => c.Health != "healthy").Select(c => c.Name);
            throw new TimeoutException(
                $"Not every container was healthy after {timeout}: {string.Join(", ", containers.Select(c => $"{c.Name}={c.Health}"))}" +
                $" ({containers.Count} of {expectedContainers})\n{await LogTailsAsync(unhealthy, 30, cancellationToken)}");
        }
    }

    /// <summary>Runs a shell command in the (first) container of a service.</summary>
    public async Task<string> ExecAsync(string service, string command, CancellationToken cancellationToken)
    {
        var id = (await IdsAsync(service, cancellationToken)).First();
        return (await podman.Shell.RunAsync("podman", ["exec", id, "sh", "-c", command], cancellationToken)).Output;
    }

    /// <summary>Removes whatever of this project compose left behind (after a failed run, say).</summary>
    public async Task RemoveLeftoversAsync(CancellationToken cancellationToken)
    {
        var label = "label=com.docker.compose.project=" + Project;
        foreach (var kind in new[] { "container", "volume", "network" })
        {
            var listed = await podman.Shell.RunAsync("podman",
                kind == "container" ? new[] { "ps", "-aq", "--filter", label } : new[] { kind, "ls", "-q", "--filter", label },
                cancellationToken, check: false, quiet: true);
            var names = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (names.Length > 0)
            {
                await podman.Shell.RunAsync("podman", new[] { kind, "rm", "-f" }.Concat(names), cancellationToken, check: false);
            }
        }
    }

    /// <summary>
    /// What a failed test prints before the stack is torn down: every container's state, restarts and
    /// OOM kill, then the tail of its log.
    /// </summary>
    public async Task<string> PostMortemAsync(int lines, CancellationToken cancellationToken)
    {
        var ids = await IdsAsync(null, cancellationToken);
        if (ids.Count == 0)
        {
            return "(no containers)";
        }

        var states = await podman.Shell.RunAsync("podman",
            new[] { "inspect", "--format", "{{.Name}} {{.State.Status}} restarts={{.RestartCount}} oom-killed={{.State.OOMKilled}} exit={{.State.ExitCode}}" }.Concat(ids),
            cancellationToken, check: false, quiet: true);
        var names = states.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0]);
        return $"Containers:\n{states.Output}{states.Errors}\n{await LogTailsAsync(names, lines, cancellationToken)}";
    }

    private async Task<string> LogTailsAsync(IEnumerable<string> containers, int lines, CancellationToken cancellationToken)
    {
        var logs = new List<string>();
        foreach (var name in containers)
        {
            var log = await podman.Shell.RunAsync("podman", ["logs", "--tail", lines.ToString(), name], cancellationToken, check: false, quiet: true);
            logs.Add($"--- {name}\n{log.Output}{log.Errors}");
        }

        return string.Join('\n', logs);
    }

    private async Task<IReadOnlyList<string>> IdsAsync(string? service, CancellationToken cancellationToken)
    {
        var filters = new List<string> { "--filter", "label=com.docker.compose.project=" + Project };
        if (service is not null)
        {
            filters.AddRange(["--filter", "label=com.docker.compose.service=" + service]);
        }

        var listed = await podman.Shell.RunAsync("podman", new[] { "ps", "-aq" }.Concat(filters), cancellationToken, quiet: true);
        return listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    private Task<CommandResult> ComposeAsync(CancellationToken cancellationToken, params string[] arguments) =>
        podman.Shell.RunAsync("docker-compose",
            new[] { "--project-name", Project, "--env-file", envFile }
                .Concat((files ?? [ComposeFile.FilePath]).SelectMany(file => new[] { "--file", file }))
                .Concat(arguments),
            cancellationToken);
}
