"""What the student's copy of the course is made of (the lessons without their answers)."""
