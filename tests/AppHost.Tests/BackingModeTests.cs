using Reference.AppHost.Backing;

namespace Reference.AppHost.Tests;

public sealed class BackingModeTests
{
    private static BackingModeResolver Machine(bool serversInstalled, bool engineAnswers, string? missing = null) =>
        new(program => serversInstalled && program != missing, () => engineAnswers);

    [Theory]
    [InlineData(true, true, BackingMode.Local)]
    [InlineData(true, false, BackingMode.Local)]
    [InlineData(false, true, BackingMode.Container)]
    public void Auto_prefers_installed_servers_then_a_container_engine(bool installed, bool engine, BackingMode expected) =>
        Assert.Equal(expected, Machine(installed, engine).Resolve(BackingMode.Auto));

    [Fact]
    public void Auto_with_neither_servers_nor_engine_says_what_to_install()
    {
        var error = Assert.Throws<BackingModeException>(() => Machine(false, false).Resolve(BackingMode.Auto));
        Assert.Contains("apt-get install -y mariadb-server redis-server rabbitmq-server", error.Message);
        Assert.Contains("docker or podman", error.Message);
    }

    [Fact]
    public void Local_with_one_program_missing_names_it()
    {
        var error = Assert.Throws<BackingModeException>(
            () => Machine(true, true, missing: "redis-server").Resolve(BackingMode.Local));
        Assert.Contains("redis-server is not installed", error.Message);
        Assert.DoesNotContain("mariadbd", error.Message);
    }

    [Theory]
    [InlineData(BackingMode.Local)]
    [InlineData(BackingMode.Container)]
    public void An_explicit_mode_is_kept_when_it_can_run(BackingMode mode) =>
        Assert.Equal(mode, Machine(true, true).Resolve(mode));
}
