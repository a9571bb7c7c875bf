using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Reference.UploadApi.Infrastructure.Migrations
{
    /// <inheritdoc />
    public partial class WorkerStarts : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<int>(
                name: "Starts",
                table: "uploads",
                type: "int",
                nullable: false,
                defaultValue: 0);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "Starts",
                table: "uploads");
        }
    }
}
