using MySqlConnector;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.AppHost.Tests;

/// <summary>
/// Each service's credentials, on the real servers started by the AppHost's own scripts and set up by
/// the services' own <c>--migrate</c> step, are refused everything outside the service's scope
/// (docs/security.md). Each test prints what it tried and what the server answered.
/// </summary>
public sealed partial class LeastPrivilegeTests(BackingServers servers, ITestOutputHelper output) : IClassFixture<BackingServers>
{
    [Fact]
    public async Task Each_services_mysql_user_has_data_rights_on_its_own_database_only()
    {
        await RunDatabaseSetupAsync("InventoryApi", "inventorydb", "inventoryapi");
        await RunDatabaseSetupAsync("UploadApi", "uploaddb", "uploadapi");
        var inventoryTable = await FirstTableAsync("inventorydb");
        var uploadTable = await FirstTableAsync("uploaddb");
        var upload = servers.MySqlConnectionStringFor("uploadapi", "uploaddb");
        var inventory = servers.MySqlConnectionStringFor("inventoryapi", "inventorydb");

        await Allowed("uploadapi reads its own table", upload, $"SELECT COUNT(*) FROM uploaddb.`{uploadTable}`");
        await Allowed("inventoryapi reads its own table", inventory, $"SELECT COUNT(*) FROM inventorydb.`{inventoryTable}`");
        await Refused("uploadapi reads inventorydb", upload, $"SELECT COUNT(*) FROM inventorydb.`{inventoryTable}`");
        await Refused("inventoryapi reads uploaddb", inventory, $"SELECT COUNT(*) FROM uploaddb.`{uploadTable}`");
        await Refused("uploadapi creates a table in its own database", upload, "CREATE TABLE uploaddb.intruder (id INT)");
        await Refused("uploadapi drops its own table", upload, $"DROP TABLE uploaddb.`{uploadTable}`");
        await Refused("inventoryapi alters its own table", inventory, $"ALTER TABLE inventorydb.`{inventoryTable}` ADD COLUMN intruder INT");
        await Refused("inventoryapi reads the user table", inventory, "SELECT COUNT(*) FROM mysql.user");
        await Refused("inventoryapi creates a database", inventory, "CREATE DATABASE intruder");
    }

    [Fact]
    public void No_server_password_shows_on_a_command_line()
    {
        // What `ps` shows every user of the machine: every process's arguments.
        var commandLines = Directory.GetDirectories("/proc")
            .Where(dir => int.TryParse(Path.GetFileName(dir), out _))
            .Select(dir =>
            {
                try
                {
                    return File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                }
                catch (IOException)
                {
                    return "";
                }
                catch (UnauthorizedAccessException)
                {
                    return "";
                }
            })
            .ToList();
        var passwords = BackingServers.Passwords;
        output.WriteLine($"{commandLines.Count} command lines searched for {passwords.Count} passwords");

        Assert.All(passwords, password => Assert.DoesNotContain(commandLines, line => line.Contains(password, StringComparison.Ordinal)));
    }

    private async Task RunDatabaseSetupAsync(string project, string database, string user)
    {
        using var setup = DatabaseSetupProcess.Start(servers, project, database, user);
        await setup.SucceedsAsync(TimeSpan.FromMinutes(2));
        output.WriteLine($"{project} --migrate: set up {database} and its user {user}");
    }

    private async Task<string> FirstTableAsync(string database)
    {
        await using var connection = new MySqlConnection(servers.MySqlAdminConnectionString);
        await connection.OpenAsync();
        await using var command = new MySqlCommand(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = @db AND table_name <> '__EFMigrationsHistory' ORDER BY table_name LIMIT 1",
            connection);
        command.Parameters.AddWithValue("@db", database);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    private async Task Allowed(string attempt, string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        await new MySqlCommand(sql, connection).ExecuteNonQueryAsync();
        output.WriteLine($"allowed: {attempt} ({sql})");
    }

    private async Task Refused(string attempt, string connectionString, string sql)
    {
        await using var connection = new MySqlConnection(connectionString);
        await connection.OpenAsync();
        var refused = await Assert.ThrowsAsync<MySqlException>(() => new MySqlCommand(sql, connection).ExecuteNonQueryAsync());
        Assert.Contains("denied", refused.Message, StringComparison.OrdinalIgnoreCase);
        output.WriteLine($"refused: {attempt} ({sql}): {refused.Message}");
    }
}
