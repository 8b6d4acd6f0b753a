/* Does nothing: run through a column, it measures that column's start-up. */
int main(void)
{
	return 0;
}
